import Foundation
import TitrateRandom
import TitrateSecureAggregation
import TitrateSodium

/// The secure aggregation part of one round.
struct SecureAggregationRoundResult {
  /// The aggregation to apply; nil when the protocol aborted.
  var outcome: AggregationOutcome?
  /// The reason the round is skipped; nil when it completed.
  var skipReason: String?
  /// The summary stored in the round record.
  var summary: SecureAggregationRoundSummary
  /// Sites whose report was accepted but whose masked input never reached
  /// the server, with the reason. Only rounds whose sites run their own
  /// halves of the protocol fill it.
  var lateDropReasons: [String: String] = [:]
}

extension FederatedTrainer {
  static func secureDropStream(site: Int, round: Int) -> UInt64 {
    0x5EC0_0000_0000 + UInt64(site) << 24 + UInt64(round)
  }
  static func distributedNoiseStream(site: Int, round: Int) -> UInt64 {
    0xD157_0000_0000 + UInt64(site) << 24 + UInt64(round)
  }

  /// Returns the protocol stage at which each simulated dropout leaves the
  /// round under secure aggregation: one of the four stages, drawn
  /// uniformly from a stream of the run seed, the site and the round.
  /// Empty without secure aggregation.
  func secureAggregationDropStages(
    failures: [Int: SimulatedFailureKind], round: Int
  ) -> [Int: SimulatedDropStage] {
    guard configuration.secureAggregation != nil else { return [:] }
    var stages: [Int: SimulatedDropStage] = [:]
    for (index, failure) in failures where failure == .dropout {
      var generator = Xoshiro256(
        seed: configuration.seed, stream: Self.secureDropStream(site: index, round: round))
      let all = SimulatedDropStage.allCases
      stages[index] = all[min(Int(generator.nextUniform() * Double(all.count)), all.count - 1)]
    }
    return stages
  }

  /// Runs SecAgg+ over the round's sampled sites and turns the unmasked
  /// sum into the server step.
  ///
  /// Each site with an accepted update quantises it (see
  /// `FixedPointQuantizer.encodeInput`) with weight sampleCount / maximum
  /// under FedAvg by sample count, and 1 otherwise. Sampled sites without
  /// an accepted update (timed out, or failing the site-side checks) send
  /// no masked input, so they leave after sharing keys.
  ///
  /// Under central differential privacy each site clips its delta to C
  /// and adds Gaussian noise of standard deviation z C / sqrt(t) to every
  /// coordinate before quantising. The server unmasks only sums of at
  /// least t inputs (it aborts otherwise), so the sum carries noise of
  /// standard deviation at least z C, the calibration the accountant
  /// charges. The noisy sum is divided by the expected participant count,
  /// as in the central mechanism.
  /// NOTE: sites that collude with the server can subtract their own noise:
  /// with c colluders among m summed sites the remaining standard deviation
  /// is z C sqrt((m - c) / t), below z C when m - c < t.
  /// - Throws: `StrategyRoundError` from the strategy's server step;
  ///   `SodiumError` when libsodium cannot start.
  func secureAggregate(
    _ accepted: [ModelUpdate], sampled: [Int], drops: [Int: SimulatedDropStage], round: Int
  ) throws -> SecureAggregationRoundResult {
    try Sodium.initialize()
    let secure = configuration.secureAggregation!
    if let skipped = unsafeSecureRound(sampled: sampled) { return skipped }
    let threshold = secure.effectiveThreshold(participantCount: sampled.count)
    var inputs: [UInt32: [UInt64]?] = [:]
    for index in sampled { inputs.updateValue(nil, forKey: UInt32(index)) }
    for update in accepted {
      let index = siteNames.firstIndex(of: update.siteName)!
      inputs[UInt32(index)] = siteInput(
        update, site: index, round: round, threshold: threshold, quantizer: secure.quantizer)
    }
    let protocolDrops = Dictionary(
      uniqueKeysWithValues: drops.map { (UInt32($0.key), $0.value) })
    // Keys come from the operating system; the sum does not depend on
    // them. The ring order comes from the run seed, so which rounds abort
    // repeats on resume.
    let started = Date()
    let outcome = simulateSecureAggregationRound(
      round: UInt64(round), inputs: inputs, vectorLength: globalParameters.count + 1,
      configuration: secure, drops: protocolDrops, randomness: .system,
      graphRandomness: secureGraphRandomness(round: round),
      siteNames: Dictionary(uniqueKeysWithValues: sampled.map { (UInt32($0), siteNames[$0]) }))
    let withInput = Set(sampled.filter { (inputs[UInt32($0)] ?? nil) != nil })
    var summary = secureRoundSummary(
      sampled: sampled, withInput: withInput, drops: drops, traffic: outcome.traffic,
      seconds: Date().timeIntervalSince(started))
    return try finishSecureRound(outcome.result, summary: &summary)
  }

  /// Returns the source of the neighbour graph's ring order in `round`: a
  /// stream of the run seed, so every transport draws the same graph.
  func secureGraphRandomness(round: Int) -> RandomByteSource {
    RandomByteSource.seeded(configuration.seed).derived(stream: UInt64(round))
  }

  /// Returns a skipped round when the sampled sites cannot run the
  /// protocol safely, nil when they can. Poisson sampling can draw fewer
  /// sites than the configuration was checked for.
  func unsafeSecureRound(sampled: [Int]) -> SecureAggregationRoundResult? {
    let secure = configuration.secureAggregation!
    let threshold = secure.effectiveThreshold(participantCount: sampled.count)
    let neighbourCount = secure.effectiveNeighbourCount(participantCount: sampled.count)
    guard sampled.count < 3 || !(2...max(neighbourCount, 2)).contains(threshold)
      || threshold > neighbourCount
    else { return nil }
    let reason =
      "secure aggregation needs at least 3 sampled sites and a threshold in 2...k; this "
      + "round sampled \(sampled.count) sites (k = \(neighbourCount), t = \(threshold)), so "
      + "it is skipped"
    return SecureAggregationRoundResult(
      outcome: nil, skipReason: reason,
      summary: SecureAggregationRoundSummary(
        includedSites: [], drops: [], recoveredMaskingKeys: [], abortReason: reason,
        serverToSitesBytes: 0, sitesToServerBytes: 0))
  }

  /// Builds the round's summary before the result is known: the bytes,
  /// and the sites that left at a scheduled stage or had no input.
  func secureRoundSummary(
    sampled: [Int], withInput: Set<Int>, drops: [Int: SimulatedDropStage],
    traffic: SecureAggregationTraffic, seconds: Double
  ) -> SecureAggregationRoundSummary {
    var summary = SecureAggregationRoundSummary(
      includedSites: [], drops: [], recoveredMaskingKeys: [], abortReason: nil,
      serverToSitesBytes: traffic.serverToSitesBytes,
      sitesToServerBytes: traffic.sitesToServerBytes, protocolSeconds: seconds)
    for index in sampled {
      let hasInput = withInput.contains(index)
      if let stage = drops[index] {
        // A site without a masked input left at one of the first two
        // stages, so its scheduled stage is recorded when it is one of them.
        let effective =
          hasInput || stage == .afterAdvertisingKeys ? stage : .afterSharingKeys
        summary.drops.append(
          SecureAggregationDrop(site: siteNames[index], stage: effective.rawValue))
      } else if !hasInput {
        summary.drops.append(
          SecureAggregationDrop(
            site: siteNames[index], stage: SimulatedDropStage.afterSharingKeys.rawValue))
      }
    }
    return summary
  }

  /// Turns the protocol's result into the server step: the unmasked sum
  /// becomes a mean (divided by the expected participant count under
  /// central privacy, by the sum of weights otherwise).
  func finishSecureRound(
    _ protocolResult: Result<SecureAggregationResult, SecureAggregationAbort>,
    summary: inout SecureAggregationRoundSummary
  ) throws -> SecureAggregationRoundResult {
    let quantizer = configuration.secureAggregation!.quantizer
    let result: SecureAggregationResult
    switch protocolResult {
    case .failure(let abort):
      summary.abortReason = abort.description
      return SecureAggregationRoundResult(
        outcome: nil, skipReason: abort.description, summary: summary)
    case .success(let success):
      result = success
    }
    summary.includedSites = result.includedSites.map { siteNames[Int($0)] }
    summary.recoveredMaskingKeys = result.recoveredDroppedSites.map { siteNames[Int($0)] }

    let centralPrivacy = configuration.privacy?.placement == .central
    let divisor =
      centralPrivacy
      ? Double(configuration.expectedParticipantCount)
      : quantizer.dequantizeWeightSum(result.sum[0])
    guard divisor > 0 else {
      return SecureAggregationRoundResult(
        outcome: nil,
        skipReason: "the included sites' weights sum to 0 after quantisation, so there is no mean",
        summary: summary)
    }
    let includedCount = result.includedSites.count
    let mean = result.sum.dropFirst().map {
      quantizer.dequantizeSum($0, count: includedCount) / divisor
    }
    var state = strategyState
    let step = try serverStepOnMean(mean, state: &state)
    let aggregation = AggregationOutcome(
      step: step, strategyState: state, adaptiveClipState: adaptiveClipState,
      usedSiteNames: summary.includedSites, clipNorm: configuration.privacy?.initialClipNorm)
    return SecureAggregationRoundResult(outcome: aggregation, skipReason: nil, summary: summary)
  }

  /// Encodes the words one site masks: its weight, then weight x delta,
  /// after the distributed noise of central differential privacy when
  /// that is on. Sites call it in their own process under a transport
  /// that runs the site halves there.
  func siteInput(
    _ update: ModelUpdate, site index: Int, round: Int, threshold: Int,
    quantizer: FixedPointQuantizer
  ) -> [UInt64] {
    var delta = update.delta
    var weight = 1.0
    if let privacy = configuration.privacy, privacy.placement == .central {
      var generator = Xoshiro256(
        seed: configuration.seed, stream: Self.distributedNoiseStream(site: index, round: round))
      let standardDeviation =
        privacy.noiseMultiplier * privacy.initialClipNorm / Double(threshold).squareRoot()
      delta = clipDelta(delta, clipNorm: privacy.initialClipNorm).delta.map {
        $0 + standardDeviation * generator.nextStandardNormal()
      }
    } else if configuration.aggregation.meanWeighting == .bySampleCount {
      weight = Double(update.sampleCount) / Double(maximumSiteSampleCount)
    }
    return quantizer.encodeInput(update: delta, weight: weight)
  }

  /// The largest sample count any site can report in one round, which
  /// scales sample-count weights into [0, 1].
  var maximumSiteSampleCount: Int {
    configuration.localIterations * configuration.ppo.stepsPerRollout
      * (configuration.sites.map(\.patientsPerBatch).max() ?? 1)
  }

  /// Text for a site that left a secure aggregation round before its
  /// masked input reached the server.
  static func secureDropReason(_ stage: SimulatedDropStage) -> String {
    switch stage {
    case .afterAdvertisingKeys:
      return "dropped out after advertising keys (secure aggregation stage 0, simulated); "
        + "its update is not in the sum"
    case .afterSharingKeys:
      return "dropped out after sharing keys (secure aggregation stage 1, simulated); its "
        + "update is not in the sum, and a round that completes rebuilds its masking key "
        + "from shares"
    case .afterMaskedInput, .duringUnmasking:
      return "dropped out at stage \(stage.rawValue) after sending its masked input; its "
        + "update is in the sum if the round completes"
    }
  }
}

extension AggregationStrategy {
  /// The weighting of the mean that a sum-based strategy takes; nil for
  /// the robust rules.
  var meanWeighting: UpdateWeighting? {
    switch self {
    case .federatedAveraging(let weighting),
      .federatedAveragingWithMomentum(let weighting, _),
      .adaptive(_, let weighting, _):
      return weighting
    default:
      return nil
    }
  }
}
