import Foundation
import TitratePolicy
import TitrateRandom

extension FederatedTrainer {
  /// Random stream identifiers of the round machinery; see
  /// `siteLearnerStream` for the scheme.
  static let centralNoiseStream: UInt64 = 0xD1FF_0000_0000
  static func localNoiseStream(site: Int, round: Int) -> UInt64 {
    0x10CA_0000_0000 + UInt64(site) << 24 + UInt64(round)
  }
  static func attackStream(site: Int, round: Int) -> UInt64 {
    0xA77A_0000_0000 + UInt64(site) << 24 + UInt64(round)
  }

  /// Site-level epsilon spent so far at the configured delta (0 before the
  /// first round); nil without differential privacy.
  public var privacyEpsilon: Double? {
    guard let privacy = configuration.privacy, let privacyAccountant else { return nil }
    // Nothing released yet costs nothing. The conversion alone would report
    // a small positive epsilon for zero RDP.
    guard privacyAccountant.totalRDP.contains(where: { $0 > 0 }) else { return 0 }
    return try? privacyAccountant.privacySpent(delta: privacy.delta).epsilon
  }

  /// Runs one round and appends its record to `history`.
  ///
  /// The round samples sites, trains the sampled sites that do not drop
  /// out, validates the replies that arrive in time, and combines the
  /// accepted ones. It is skipped, leaving the model, the server state,
  /// the observation statistics and the cost multiplier unchanged, when
  /// fewer than `minimumParticipants` updates are accepted or the strategy's
  /// bound fails for the updates that remain. A skipped round still counts
  /// as a completed round, and under differential privacy it is charged to
  /// the accountant like any other.
  ///
  /// - Parameter updateFilter: lets tests replace a site's update before
  ///   validation (identity by default). It runs after the configured
  ///   attacks and local noise.
  /// - Throws: `FederationError.privacyBudgetExhausted` before any training
  ///   when the round would exceed the epsilon budget;
  ///   `.allUpdatesRejected` when replies arrived but every one failed
  ///   validation; `.nonFiniteGlobalModel` when the server step overflows
  ///   Float. In each case the trainer is left unchanged.
  @discardableResult
  public func runRound(
    updateFilter: ((ModelUpdate) -> ModelUpdate)? = nil
  ) throws -> RoundRecord {
    let round = completedRounds + 1
    let started = Date()
    let nextAccountant = try accountantAfterNextRound()
    let nextEpsilon = try nextAccountant.map {
      try $0.privacySpent(delta: configuration.privacy!.delta).epsilon
    }
    if let budget = configuration.privacy?.epsilonBudget, let nextEpsilon, nextEpsilon > budget {
      throw FederationError.privacyBudgetExhausted(
        round: round, spentEpsilon: privacyEpsilon ?? 0, nextEpsilon: nextEpsilon, budget: budget)
    }

    let broadcast = globalParameters
    let multiplierUsed = costMultiplier?.value
    let siteMultipliers = multipliersForRound
    let sampled = configuration.siteSampling.sampledIndices(
      siteCount: sites.count, seed: configuration.seed, round: round)
    var failures: [Int: SimulatedFailureKind] = [:]
    for index in sampled {
      failures[index] = configuration.siteFailures.failure(
        siteName: sites[index].configuration.name, siteIndex: index, round: round,
        seed: configuration.seed)
    }
    // Under secure aggregation a dropout leaves at a protocol stage; one
    // that leaves after sending its masked input has trained.
    let secureDrops = secureAggregationDropStages(failures: failures, round: round)
    let training = sampled.filter {
      failures[$0] != .dropout || secureDrops[$0]?.inputIncluded == true
    }
    // Sites that run their own half of secure aggregation have checked
    // their updates already and sent only their reports.
    let siteRunSecure = siteRunSecureTransport
    var collected = CollectedReplies()
    if let summing = summingTransport {
      precondition(
        updateFilter == nil,
        "updateFilter needs every update at the aggregator; a summing transport validates "
          + "updates where the sites train")
      let request = SiteTrainingRequest(
        round: round, siteIndices: training, globalParameters: broadcast,
        normalizer: globalNormalizer, costMultipliers: siteMultipliers.map { Float($0 ?? 0) })
      collected = try collectSummedReplies(
        summing, sampled: sampled, failures: failures, training: request)
    } else {
      let results = try trainSites(
        indices: training, round: round, broadcast: broadcast,
        broadcastNormalizer: globalNormalizer, multipliers: siteMultipliers.map { Float($0 ?? 0) })
      let resultsBySite = Dictionary(uniqueKeysWithValues: zip(training, results))
      for index in sampled {
        if siteRunSecure != nil {
          collectReport(site: index, result: resultsBySite[index], into: &collected)
          continue
        }
        collect(
          site: index, result: resultsBySite[index],
          failure: secureDrops[index]?.inputIncluded == true ? nil : failures[index],
          round: round, broadcastCount: broadcast.count, updateFilter: updateFilter,
          into: &collected)
      }
    }
    for position in collected.records.indices {
      if let index = siteNames.firstIndex(of: collected.records[position].site) {
        collected.records[position].costMultiplier = siteMultipliers[index]
        if let stage = secureDrops[index], !stage.inputIncluded {
          collected.records[position].rejectionReason = Self.secureDropReason(stage)
        }
      }
    }
    if collected.arrivedCount > 0 && collected.accepted.isEmpty {
      throw FederationError.allUpdatesRejected(
        round: round,
        reasons: collected.records.map { "\($0.site): \($0.rejectionReason ?? "accepted")" })
    }

    var skipReason: String?
    var outcome: AggregationOutcome?
    var secureSummary: SecureAggregationRoundSummary?
    if collected.accepted.count < configuration.minimumParticipants {
      skipReason =
        "\(collected.accepted.count) updates accepted, below the minimum of "
        + "\(configuration.minimumParticipants) participants"
    } else {
      do {
        if let siteRunSecure {
          let accepted = Set(
            collected.accepted.compactMap { siteNames.firstIndex(of: $0.siteName) })
          let secure = try secureAggregateAcrossSites(
            acceptedSites: accepted, sampled: sampled, drops: secureDrops, round: round,
            transport: siteRunSecure)
          outcome = secure.outcome
          skipReason = secure.skipReason
          secureSummary = secure.summary
          markLateDrops(secure.lateDropReasons, in: &collected.records)
        } else if configuration.secureAggregation != nil {
          let secure = try secureAggregate(
            collected.accepted, sampled: sampled, drops: secureDrops, round: round)
          outcome = secure.outcome
          skipReason = secure.skipReason
          secureSummary = secure.summary
        } else if let total = collected.updateSum {
          outcome = try aggregateSum(total, accepted: collected.accepted, round: round)
        } else {
          outcome = try aggregate(collected.accepted, round: round)
        }
      } catch let error as StrategyRoundError {
        skipReason = error.description
      }
    }

    // Factors are recorded only for rounds whose average used them.
    if outcome != nil, let factors = multiplierWeightFactors(of: collected.accepted) {
      for (update, factor) in zip(collected.accepted, factors) {
        if let position = collected.records.firstIndex(where: { $0.site == update.siteName }) {
          collected.records[position].weightFactor = factor
        }
      }
    }
    if let outcome {
      var nextParameters = globalParameters
      var nextServerState = serverState
      applyServerStep(
        configuration.serverOptimizer, state: &nextServerState, averageDelta: outcome.step,
        parameters: &nextParameters)
      // A finite Double delta can still overflow Float; such a step would
      // poison every later round, so the round is rejected as a whole.
      if let index = nextParameters.firstIndex(where: { !$0.isFinite }) {
        throw FederationError.nonFiniteGlobalModel(round: round, parameterIndex: index)
      }
      projectOntoMonotoneConstraint(&nextParameters)
      globalParameters = nextParameters
      serverState = nextServerState
      strategyState = outcome.strategyState
      adaptiveClipState = outcome.adaptiveClipState
      if configuration.observationNormalization == .federated {
        var merged = RunningNormalizer(featureCount: observationSize)
        merged.restore(globalNormalizer)
        for update in collected.accepted { merged.merge(update.observationStatistics!) }
        globalNormalizer = merged.state
      }
    }
    for (site, delta) in collected.newStaleDeltas { staleDeltas[site] = delta }
    if let nextAccountant { privacyAccountant = nextAccountant }
    completedRounds = round

    let elapsed = Date().timeIntervalSince(started)
    var record = pooledRecord(round: round, sites: collected.records, elapsed: elapsed)
    record.costMultiplier = multiplierUsed
    record.sampledSites = sampled.count
    record.droppedSites =
      collected.records.filter { $0.status == .droppedOut || $0.status == .timedOut }.count
    record.skipReason = skipReason
    record.usedSites = outcome?.usedSiteNames
    record.privacyEpsilon = nextEpsilon
    record.clipNorm = outcome?.clipNorm
    record.secureAggregation = secureSummary
    // The dual step uses the cost measured at sites whose updates were
    // accepted, so a rejected site cannot steer the multiplier.
    if outcome != nil {
      costMultiplier?.update(meanEpisodeCost: record.greedyEpisodeCost ?? record.meanEpisodeCost)
      // Per site, each multiplier steps from its own site's cost, and only
      // when that site's update was accepted.
      for site in record.sites where site.accepted {
        if let index = siteNames.firstIndex(of: site.site) {
          siteCostMultipliers?[index].update(
            meanEpisodeCost: site.greedyEpisodeCost ?? site.meanEpisodeCost)
        }
      }
    }
    history.append(record)
    return record
  }

  /// The replies of one round after failures, attacks and validation.
  struct CollectedReplies {
    var accepted: [ModelUpdate] = []
    var records: [SiteRoundRecord] = []
    var arrivedCount = 0
    var newStaleDeltas: [String: [Double]] = [:]
    /// The sum of the accepted deltas when a summing transport formed it
    /// where the sites train. `accepted` then contains updates without deltas.
    var updateSum: SiteUpdateSum?
  }

  /// Turns one sampled site's result into a record, and into an accepted
  /// update when it arrives in time and passes validation. Under secure
  /// aggregation across processes each site runs this on its own result.
  func collect(
    site index: Int, result: SiteResult?, failure: SimulatedFailureKind?, round: Int,
    broadcastCount: Int, updateFilter: ((ModelUpdate) -> ModelUpdate)?,
    into collected: inout CollectedReplies
  ) {
    let name = sites[index].configuration.name
    let attack = configuration.hostileSites.first { $0.site == name }?.attack
    guard let result else {
      collected.records.append(
        SiteRoundRecord(
          site: name, accepted: false,
          rejectionReason: "dropped out before training (simulated failure)", status: .droppedOut,
          attack: attack?.label, environmentSteps: 0, meanEpisodeReturn: nil,
          targetAttainment: nil, outcomeMeans: [:], episodes: 0, secondsTraining: 0))
      return
    }
    var record = result.record
    record.attack = attack?.label
    // A network transport marks a site that sent nothing in time this way.
    // Local training always reports `.accepted` here.
    if record.status == .droppedOut || record.status == .timedOut {
      collected.records.append(record)
      return
    }
    // A network transport marks a reply it could not decode this way. The
    // reply arrived, so it counts like an update that failed validation.
    if record.status == .rejected {
      collected.arrivedCount += 1
      collected.records.append(record)
      return
    }
    if failure == .timeout {
      record.accepted = false
      record.status = .timedOut
      record.rejectionReason = "timed out: the reply arrived after the round closed (simulated)"
      collected.records.append(record)
      return
    }
    if let deadline = configuration.roundDeadlineSeconds, record.secondsTraining > deadline {
      record.accepted = false
      record.status = .timedOut
      record.rejectionReason = String(
        format: "timed out: local training took %.2f s, above the round deadline of %.2f s",
        record.secondsTraining, deadline)
      collected.records.append(record)
      return
    }
    collected.arrivedCount += 1

    var update = result.update
    update.delta = siteReply(
      honestDelta: update.delta, site: index, attack: attack, round: round,
      newStaleDeltas: &collected.newStaleDeltas)
    if let updateFilter { update = updateFilter(update) }
    let rejection = rejectionReason(for: update, site: index, round: round, count: broadcastCount)
    if rejection == nil { collected.accepted.append(update) }
    record.accepted = rejection == nil
    record.status = rejection == nil ? .accepted : .rejected
    record.rejectionReason = rejection?.description
    collected.records.append(record)
  }

  /// Applies a hostile site's attack, which replaces what the site would
  /// have sent. Under local DP `delta` already carries the site's noise
  /// (`trainSite` adds it), and a hostile site sends its attack instead.
  private func siteReply(
    honestDelta delta: [Double], site index: Int, attack: SiteAttack?, round: Int,
    newStaleDeltas: inout [String: [Double]]
  ) -> [Double] {
    guard let attack else { return delta }
    let name = sites[index].configuration.name
    let stale = staleDeltas[name]
    if attack == .stale && stale == nil { newStaleDeltas[name] = delta }
    var generator = Xoshiro256(
      seed: configuration.seed, stream: Self.attackStream(site: index, round: round))
    return attackedDelta(attack, honestDelta: delta, staleDelta: stale, generator: &generator)
  }

  /// Validates one update: shape, finite values, a plausible sample count,
  /// the round, and the observation statistics under federated
  /// normalisation.
  private func rejectionReason(
    for update: ModelUpdate, site index: Int, round: Int, count: Int
  ) -> UpdateRejection? {
    // A site steps each of its patients once per rollout step, so it can
    // report at most this many samples. A larger count would buy weight.
    let maximumSampleCount =
      configuration.localIterations * configuration.ppo.stepsPerRollout
      * configuration.sites[index].patientsPerBatch
    if let rejection = validate(
      update, expectedParameterCount: count, round: round, maximumSampleCount: maximumSampleCount)
    {
      return rejection
    }
    if configuration.costConstraint?.scaleWeightsByAdvantageSpread == true {
      guard let factor = update.weightFactor, factor > 0, factor.isFinite else {
        return .invalidWeightFactor(update.weightFactor)
      }
    }
    guard configuration.observationNormalization == .federated else { return nil }
    guard let statistics = update.observationStatistics else {
      return .invalidObservationStatistics("observation statistics: none sent")
    }
    if let problem = statisticsProblem(
      statistics, featureCount: observationSize, sampleCount: update.sampleCount)
    {
      return .invalidObservationStatistics(problem)
    }
    return nil
  }

  /// The accountant as it will be after the next round: one more round of
  /// the sampled Gaussian mechanism, with the sampling rate of the scheme in
  /// use (1 under local noise, where every release is charged in full).
  /// nil without differential privacy.
  func accountantAfterNextRound() throws -> RenyiAccountant? {
    guard let privacy = configuration.privacy, var accountant = privacyAccountant else {
      return nil
    }
    let samplingRate =
      privacy.placement == .local
      ? 1 : configuration.siteSampling.samplingRate(siteCount: sites.count)
    try accountant.compose(
      noiseMultiplier: privacy.noiseMultiplier, samplingRate: samplingRate, rounds: 1)
    return accountant
  }
}
