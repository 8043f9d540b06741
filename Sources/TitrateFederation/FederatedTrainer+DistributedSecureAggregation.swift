import Foundation
import TitrateSecureAggregation
import TitrateSodium

/// A transport whose sites run their own half of secure aggregation in the
/// processes that host them (`SecureAggregationSiteHost`), so that the
/// aggregator receives masked inputs and never a site's update.
///
/// Under secure aggregation, `trainSites` of such a transport returns each
/// site's report with an empty delta. The site has already run its own
/// checks, and the report's status states whether it will mask an input.
public protocol SecureAggregationTransport: FederationTransport {
  /// Delivers the server's message of `stage` to each site in `messages`
  /// (configuration index to bytes) and returns the replies that arrive
  /// before the stage closes, by site. Sites in `expectedReplies` are
  /// waited for; the others (scheduled by the simulated failures to have
  /// left) are not. A site whose reply does not arrive is a dropout at
  /// this stage.
  /// - Throws: a transport error that ends the run (not a dropout).
  func exchangeSecureAggregationStage(
    _ stage: SecureAggregationStage, round: Int, messages: [Int: [UInt8]],
    expectedReplies: Set<Int>
  ) throws -> [Int: [UInt8]]
}

extension FederatedTrainer {
  /// The transport that runs the site halves of secure aggregation in the
  /// sites' processes. It is nil without secure aggregation, and in process,
  /// where the aggregator simulates the protocol for the sites.
  var siteRunSecureTransport: SecureAggregationTransport? {
    guard configuration.secureAggregation != nil else { return nil }
    return transport as? SecureAggregationTransport
  }

  /// Turns a site's report into a record at the aggregator, when the site
  /// ran its own checks (`SecureAggregationSiteHost.prepareReports`).
  func collectReport(
    site index: Int, result: SiteResult?, into collected: inout CollectedReplies
  ) {
    guard let result else {
      collect(
        site: index, result: nil, failure: nil, round: 0, broadcastCount: 0, updateFilter: nil,
        into: &collected)
      return
    }
    var record = result.record
    record.attack = configuration.hostileSites.first { $0.site == record.site }?.attack.label
    switch record.status {
    case .accepted?:
      collected.arrivedCount += 1
      collected.accepted.append(result.update)
    case .rejected?:
      collected.arrivedCount += 1
    default:
      break
    }
    collected.records.append(record)
  }

  /// Runs the server half of SecAgg+ over the round's sampled sites, whose
  /// halves run in their own processes, and turns the unmasked sum into
  /// the server step as `secureAggregate` does.
  ///
  /// `acceptedSites` are the sites whose reports state they will mask an
  /// input. A site that goes silent at a stage is a dropout at that stage;
  /// `lateDropReasons` of the result names the accepted sites whose input
  /// therefore did not reach the sum.
  /// - Throws: the transport's errors; `StrategyRoundError` from the
  ///   server step; `SodiumError` when libsodium cannot start.
  func secureAggregateAcrossSites(
    acceptedSites: Set<Int>, sampled: [Int], drops: [Int: SimulatedDropStage], round: Int,
    transport: SecureAggregationTransport
  ) throws -> SecureAggregationRoundResult {
    try Sodium.initialize()
    if let skipped = unsafeSecureRound(sampled: sampled) { return skipped }
    let secure = configuration.secureAggregation!
    let count = sampled.count
    var graphRandomness = secureGraphRandomness(round: round)
    let server = SecureAggregationServer(
      round: UInt64(round), participants: sampled.sorted().map { UInt32($0) },
      neighbourCount: secure.effectiveNeighbourCount(participantCount: count),
      threshold: secure.effectiveThreshold(participantCount: count),
      modulusBits: secure.modulusBits, vectorLength: globalParameters.count + 1,
      randomness: &graphRandomness)
    server.siteNames = Dictionary(uniqueKeysWithValues: sampled.map { (UInt32($0), siteNames[$0]) })

    let started = Date()
    let outcome = try runSecureAggregationServer(server) { stage, messages in
      let bySite = Dictionary(uniqueKeysWithValues: messages.map { (Int($0.key), $0.value) })
      let expected = Set(bySite.keys.filter { drops[$0]?.sendsReply(at: stage) ?? true })
      let replies = try transport.exchangeSecureAggregationStage(
        stage, round: round, messages: bySite, expectedReplies: expected)
      return Dictionary(uniqueKeysWithValues: replies.map { (UInt32($0.key), $0.value) })
    }
    var summary = secureRoundSummary(
      sampled: sampled, withInput: acceptedSites, drops: drops, traffic: outcome.traffic,
      seconds: Date().timeIntervalSince(started))

    // Sites not scheduled to leave that went silent: record the stage they
    // left after, and mark accepted ones whose input missed the sum.
    var stages = Dictionary(uniqueKeysWithValues: summary.drops.map { ($0.site, $0.stage) })
    var lateDropReasons: [String: String] = [:]
    for index in sampled where drops[index] == nil {
      guard let silent = outcome.firstSilentStage(of: UInt32(index)) else { continue }
      let hasInput = acceptedSites.contains(index)
      // A site without input replies empty at the masked input stage.
      if !hasInput && silent == .maskedInput { continue }
      let name = siteNames[index]
      stages[name] = Self.leftStageName(silentAt: silent)
      if hasInput && silent != .unmasking {
        lateDropReasons[name] =
          "dropped out: no reply at secure aggregation stage \(silent.rawValue); its update "
          + "is not in the sum"
      }
    }
    summary.drops = sampled.compactMap { index in
      stages[siteNames[index]].map { SecureAggregationDrop(site: siteNames[index], stage: $0) }
    }
    var result = try finishSecureRound(outcome.result, summary: &summary)
    result.lateDropReasons = lateDropReasons
    return result
  }

  /// Returns the name of the stage after which a site that sent no reply at
  /// `stage` left (a `SimulatedDropStage` raw value, or
  /// `beforeAdvertisingKeys` for a site that sent nothing at all).
  static func leftStageName(silentAt stage: SecureAggregationStage) -> String {
    switch stage {
    case .advertiseKeys: return "beforeAdvertisingKeys"
    case .shareKeys: return SimulatedDropStage.afterAdvertisingKeys.rawValue
    case .maskedInput: return SimulatedDropStage.afterSharingKeys.rawValue
    case .unmasking: return SimulatedDropStage.afterMaskedInput.rawValue
    }
  }
}

extension FederatedTrainer {
  /// Marks the records of sites that went silent during the protocol after
  /// their report was accepted: their update is not in the sum.
  func markLateDrops(_ reasons: [String: String], in records: inout [SiteRoundRecord]) {
    for position in records.indices {
      guard let reason = reasons[records[position].site] else { continue }
      records[position].accepted = false
      records[position].status = .droppedOut
      records[position].rejectionReason = reason
    }
  }
}
