import TitrateSecureAggregation

/// Secure aggregation over MPI: each rank runs the site halves of the sites
/// placed on it (`SecureAggregationSiteHost`), and rank 0 runs the server
/// half. Rank 0 receives the sites' reports and masked inputs, never an
/// update. Its own placed sites run their halves in rank 0's process,
/// through the same host.
///
/// Each stage is one `MPI_Bcast` of the server's messages for every site
/// and one `MPI_Gatherv` of the replies. Every message that goes to all
/// ranks is public (setup, advertised keys, unmask request) or sealed for
/// its receiver (forwarded shares), so the broadcast reveals nothing that
/// point-to-point sends would hide. MPI ranks do not go silent, so a
/// dropout here is one that the run's simulated failures schedule.
extension MPITransport: SecureAggregationTransport {
  public func exchangeSecureAggregationStage(
    _ stage: SecureAggregationStage, round: Int, messages: [Int: [UInt8]],
    expectedReplies: Set<Int>
  ) throws -> [Int: [UInt8]] {
    var writer = TransportWriter()
    writer.append(Command.secureAggregationStage.rawValue)
    writer.append(round)
    writer.append(stage.index)
    writer.append(messages.count)
    for index in messages.keys.sorted() {
      writer.append(index)
      writer.appendBytes(messages[index]!)
    }
    var bytes = writer.bytes
    try communicator.broadcast(&bytes, root: 0)
    var reader = TransportReader(bytes, context: "secure aggregation stage from rank 0")
    _ = try reader.readInt()
    return try answerSecureAggregationStage(&reader)
  }

  /// Computes this rank's sites' replies to one stage and gathers every rank's
  /// replies at rank 0, which returns them by site (other ranks return an
  /// empty dictionary).
  func answerSecureAggregationStage(_ reader: inout TransportReader) throws -> [Int: [UInt8]] {
    let round = try reader.readInt()
    let stageIndex = try reader.readInt()
    guard SecureAggregationStage.allCases.indices.contains(stageIndex) else {
      throw FederationTransportError.malformedMessage("unknown secure aggregation stage \(stageIndex)")
    }
    let stage = SecureAggregationStage.allCases[stageIndex]
    var messages: [Int: [UInt8]] = [:]
    for _ in 0..<(try reader.readInt()) {
      let index = try reader.readInt()
      messages[index] = try reader.readBytes()
    }

    var writer = TransportWriter()
    let hosted = placement.sites(messages.keys.sorted(), onRank: communicator.rank)
    var replies: [(Int, [UInt8])] = []
    if let host = secureSiteHost {
      for index in hosted {
        // A site that rejects a message stays silent for the rest of the
        // round, which the server handles as a dropout.
        if let reply = try? host.reply(
          stage: stage, site: index, round: round, message: messages[index]!)
        {
          replies.append((index, reply))
        }
      }
    }
    writer.append(replies.count)
    for (index, reply) in replies {
      writer.append(index)
      writer.appendBytes(reply)
    }
    let gathered = try communicator.gather(writer.bytes, root: 0)
    guard communicator.isRoot else { return [:] }

    var bySite: [Int: [UInt8]] = [:]
    for (rank, bytes) in gathered.enumerated() {
      var rankReader = TransportReader(
        bytes, context: "round \(round) \(stage.rawValue) replies from rank \(rank)")
      for _ in 0..<(try rankReader.readInt()) {
        let index = try rankReader.readInt()
        guard placement.rank(ofSite: index) == rank, messages[index] != nil else {
          throw FederationTransportError.unexpectedReply(
            "rank \(rank) replied for site \(index) at stage \(stage.rawValue), which it does "
              + "not host or was not sent a message")
        }
        bySite[index] = try rankReader.readBytes()
      }
    }
    return bySite
  }

  /// Runs the site-side checks of this rank's trained sites and returns the
  /// reports that go to rank 0 in place of their updates.
  func secureSiteReports(
    _ results: [SiteTrainingResult], request: SiteTrainingRequest, trainer: FederatedTrainer
  ) -> [SiteTrainingResult] {
    if secureSiteHost == nil { secureSiteHost = SecureAggregationSiteHost(trainer: trainer) }
    return secureSiteHost!.prepareReports(
      results, sites: request.siteIndices, round: request.round,
      parameterCount: request.globalParameters.count)
  }
}
