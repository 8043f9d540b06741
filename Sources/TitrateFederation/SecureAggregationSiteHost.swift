import TitrateSecureAggregation
import TitrateSodium

/// The site halves of secure aggregation for the sites one process hosts:
/// a `titrate site` process (one site) or an MPI rank (its placed sites).
///
/// After local training, `prepareReports` runs the checks an honest site
/// runs before it sends anything (simulated failures and attacks, local
/// noise, validation), keeps the accepted update in this process, and
/// returns the site's report with the update removed. During the protocol,
/// `reply` computes one site's reply to each stage's server message: keys from the
/// operating system's random source, then clipping, the site's share of
/// the distributed noise, quantisation and masking. So the aggregator
/// receives only masked inputs.
///
/// The inputs are computed by the same functions as in the in-process
/// secure run, from the same configuration and seed, so the unmasked sum,
/// and with it the model, is the same bit for bit.
public final class SecureAggregationSiteHost {
  /// The trainer built from the run's configuration; its sites that this
  /// process hosts have trained.
  public let trainer: FederatedTrainer
  private var round = 0
  /// The update each hosted site may mask this round; nil when the site
  /// has no input (its update failed its own checks or timed out).
  private var preparedUpdates: [Int: ModelUpdate?] = [:]
  private var sessions: [Int: SecureAggregationSite] = [:]
  private var thresholds: [Int: Int] = [:]

  /// Creates the host for `trainer`, whose configuration has secure
  /// aggregation.
  public init(trainer: FederatedTrainer) {
    precondition(
      trainer.configuration.secureAggregation != nil,
      "SecureAggregationSiteHost needs a configuration with secureAggregation")
    self.trainer = trainer
  }

  /// Runs each trained site's own checks on its result and keeps its
  /// update for masking, then returns the results to send to the
  /// aggregator: the round report with status and reason, an empty delta,
  /// a sample count of 0 and no observation statistics.
  /// - Parameters:
  ///   - results: the training results of `sites` (configuration indices),
  ///     in the same order.
  ///   - parameterCount: the length of the broadcast model.
  public func prepareReports(
    _ results: [SiteTrainingResult], sites: [Int], round: Int, parameterCount: Int
  ) -> [SiteTrainingResult] {
    if round != self.round { startRound(round) }
    var reports: [SiteTrainingResult] = []
    for (index, result) in zip(sites, results) {
      let failure = trainer.scheduledFailure(site: index, round: round)
      let stage = trainer.secureAggregationDropStages(
        failures: failure.map { [index: $0] } ?? [:], round: round)[index]
      var collected = FederatedTrainer.CollectedReplies()
      trainer.collect(
        site: index, result: result, failure: stage?.inputIncluded == true ? nil : failure,
        round: round, broadcastCount: parameterCount, updateFilter: nil, into: &collected)
      for (site, delta) in collected.newStaleDeltas { trainer.staleDeltas[site] = delta }
      preparedUpdates[index] = collected.accepted.first
      let name = trainer.siteNames[index]
      reports.append(
        SiteTrainingResult(
          update: ModelUpdate(
            siteName: name, round: round, delta: [], sampleCount: 0, observationStatistics: nil),
          record: collected.records[0]))
    }
    return reports
  }

  /// Computes hosted site `index`'s reply to the server's message of `stage`.
  ///
  /// Returns the reply's bytes; an empty array at `maskedInput` when the
  /// site has no input (it leaves after sharing keys, as in the in-process
  /// run); nil when the site sends nothing because the run's simulated
  /// failures make it leave before this stage.
  /// - Throws: `SecureAggregationSiteError` or `MessageDecodingError` when
  ///   the message breaks the protocol's rules; the site then sends
  ///   nothing more this round. `SodiumError` when libsodium cannot start.
  public func reply(
    stage: SecureAggregationStage, site index: Int, round: Int, message: [UInt8]
  ) throws -> [UInt8]? {
    if round != self.round { startRound(round) }
    if let drop = scheduledDropStage(site: index, round: round), !drop.sendsReply(at: stage) {
      return nil
    }
    if stage == .advertiseKeys {
      try Sodium.initialize()
      let site = try SecureAggregationSite(setup: message, randomness: .system)
      let setup = try RoundSetupMessage(decoding: message)
      guard site.id == UInt32(index), setup.round == UInt64(round) else {
        throw SecureAggregationSiteError(
          site: UInt32(index),
          detail: "the setup names site \(site.id) round \(setup.round), expected site \(index) "
            + "round \(round)")
      }
      sessions[index] = site
      thresholds[index] = Int(setup.threshold)
      return site.advertiseKeys()
    }
    guard let site = sessions[index] else {
      throw SecureAggregationSiteError(
        site: UInt32(index),
        detail: "received the \(stage.rawValue) message of round \(round) without its setup")
    }
    switch stage {
    case .advertiseKeys:
      preconditionFailure("handled above")
    case .shareKeys:
      return try site.shareKeys(neighbourKeys: message)
    case .maskedInput:
      guard let update = preparedUpdates[index] ?? nil else { return [] }
      let words = trainer.siteInput(
        update, site: index, round: round, threshold: thresholds[index]!,
        quantizer: trainer.configuration.secureAggregation!.quantizer)
      return try site.maskedInput(forwardedShares: message, input: words)
    case .unmasking:
      let response = try site.unmask(request: message)
      // A simulated cut connection delivers only the first half.
      if scheduledDropStage(site: index, round: round) == .duringUnmasking {
        return Array(response.prefix(response.count / 2))
      }
      return response
    }
  }

  private func startRound(_ round: Int) {
    self.round = round
    preparedUpdates = [:]
    sessions = [:]
    thresholds = [:]
  }

  private func scheduledDropStage(site index: Int, round: Int) -> SimulatedDropStage? {
    guard let failure = trainer.scheduledFailure(site: index, round: round) else { return nil }
    return trainer.secureAggregationDropStages(failures: [index: failure], round: round)[index]
  }
}

extension FederatedTrainer {
  /// Returns the simulated failure the configuration schedules for site `index` in
  /// `round`, as `runRound` draws it; nil when the site runs normally.
  func scheduledFailure(site index: Int, round: Int) -> SimulatedFailureKind? {
    configuration.siteFailures.failure(
      siteName: siteNames[index], siteIndex: index, round: round, seed: configuration.seed)
  }
}
