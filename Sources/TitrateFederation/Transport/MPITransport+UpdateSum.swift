import TitrateMPI

/// Route of the updates of an MPI job to rank 0.
public enum MPIUpdateCombining: String, Sendable, CaseIterable {
  /// Every site's update goes to rank 0 with `MPI_Gatherv`, for every
  /// strategy, and the model equals the one-process run bit for bit.
  case gather
  /// Each rank validates and sums the updates of its own sites and
  /// `MPI_Reduce` adds the ranks' sums at rank 0. Only the sites' verdicts
  /// are gathered. Mean-based strategies without secure aggregation only.
  /// The additions run in another order than in one process, so the model
  /// can differ in the last bits.
  case reduce
}

extension MPITransport: UpdateSumTransport {
  public var sumsUpdates: Bool { updateCombining == .reduce }

  public func trainAndSumSites(
    _ request: UpdateSumRequest, trainer: FederatedTrainer
  ) throws -> SiteUpdateSum {
    var message = TransportWriter()
    message.append(Command.trainAndSum.rawValue)
    message.append(request)
    var bytes = message.bytes
    try communicator.broadcast(&bytes, root: 0)
    return try sumAndReduce(request, trainer: trainer)
  }

  /// Trains, validates and sums this rank's sites, gathers every rank's
  /// verdicts at rank 0 and adds the ranks' sums there with `MPI_Reduce`.
  /// Returns the total on rank 0 and this rank's own part elsewhere.
  func sumAndReduce(
    _ request: UpdateSumRequest, trainer: FederatedTrainer
  ) throws -> SiteUpdateSum {
    let hosted = placement.sites(request.sampledIndices, onRank: communicator.rank)
    let local = trainer.sumSitesLocally(request, hostedSites: hosted)
    var writer = TransportWriter()
    try writer.append(local.verdicts)
    let gathered = try communicator.gather(writer.bytes, root: 0)
    var values = local.values
    try communicator.reduceSum(&values, root: 0)
    guard communicator.isRoot else { return local }

    var total = SiteUpdateSum(parameterCount: local.parameterCount)
    total.values = values
    for (rank, bytes) in gathered.enumerated() {
      var reader = TransportReader(
        bytes, context: "round \(request.training.round) verdicts from rank \(rank)")
      let verdicts = try reader.readVerdicts()
      for verdict in verdicts where placement.rank(ofSite: verdict.siteIndex) != rank {
        throw FederationTransportError.unexpectedReply(
          "rank \(rank) sent a verdict for site \(verdict.siteIndex), which it does not host")
      }
      total.verdicts += verdicts
    }
    return total
  }
}

// Binary layouts of the summed path's messages, in the style of
// `SiteMessageCoding.swift`: arrays as raw bits, the site report as JSON.
extension TransportWriter {
  mutating func append(_ request: UpdateSumRequest) {
    append(request.training)
    append(request.sampledIndices)
    let failureCodes = request.sampledIndices.map { index -> Int in
      switch request.failures[index] {
      case nil: return 0
      case .dropout: return 1
      case .timeout: return 2
      }
    }
    append(failureCodes)
    append(request.clipNorm != nil)
    append(request.clipNorm ?? 0)
  }

  mutating func append(_ verdicts: [SiteVerdict]) throws {
    append(verdicts.count)
    for verdict in verdicts {
      append(verdict.siteIndex)
      try appendJSON(verdict.record)
      append(verdict.arrived)
      append(verdict.acceptedSampleCount ?? 0)
      append(verdict.observationStatistics != nil)
      if let statistics = verdict.observationStatistics { append(statistics) }
      append(verdict.newStaleDelta != nil)
      append(verdict.newStaleDelta ?? [])
    }
  }
}

extension TransportReader {
  mutating func readUpdateSumRequest() throws -> UpdateSumRequest {
    let training = try readRequest()
    let sampled = try readInts()
    let codes = try readInts()
    guard codes.count == sampled.count else {
      throw FederationTransportError.malformedMessage(
        "\(codes.count) failure codes for \(sampled.count) sampled sites")
    }
    var failures: [Int: SimulatedFailureKind] = [:]
    for (index, code) in zip(sampled, codes) {
      switch code {
      case 0: break
      case 1: failures[index] = .dropout
      case 2: failures[index] = .timeout
      default:
        throw FederationTransportError.malformedMessage(
          "failure code \(code) for site \(index), expected 0, 1 or 2")
      }
    }
    let hasClipNorm = try readBool()
    let clipNorm = try readDouble()
    return UpdateSumRequest(
      training: training, sampledIndices: sampled, failures: failures,
      clipNorm: hasClipNorm ? clipNorm : nil)
  }

  mutating func readVerdicts() throws -> [SiteVerdict] {
    var verdicts: [SiteVerdict] = []
    for _ in 0..<(try readInt()) {
      let siteIndex = try readInt()
      let record = try readJSON(SiteRoundRecord.self)
      let arrived = try readBool()
      let sampleCount = try readInt()
      let statistics = try readBool() ? try readNormalizer() : nil
      let hasStaleDelta = try readBool()
      let staleDelta = try readDoubles()
      verdicts.append(
        SiteVerdict(
          siteIndex: siteIndex, record: record, arrived: arrived,
          acceptedSampleCount: record.accepted ? sampleCount : nil,
          observationStatistics: statistics, newStaleDelta: hasStaleDelta ? staleDelta : nil))
    }
    return verdicts
  }
}
