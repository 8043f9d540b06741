import TitrateRandom

/// The result of one round's aggregation, applied only when the whole
/// round succeeds.
struct AggregationOutcome {
  /// The vector the server optimiser adds (scaled) to the global model.
  var step: [Double]
  /// The strategy's server state after this round.
  var strategyState: StrategyState
  /// The adaptive clip norm for the next round.
  var adaptiveClipState: AdaptiveClippingState?
  /// Sites whose updates the strategy used.
  var usedSiteNames: [String]
  /// The clip norm applied under differential privacy.
  var clipNorm: Double?
}

extension FederatedTrainer {
  /// Combines the accepted updates of a round without changing the
  /// trainer.
  ///
  /// The default strategy, FedAvg by sample count, calls
  /// `federatedAverage`, whose rounding the shipped checkpoints were
  /// trained with. Under central differential privacy the deltas are
  /// clipped, summed with Gaussian noise and divided by the expected
  /// participant count; FedAvgM or FedOpt then treat that noisy mean as
  /// their pseudo-gradient, which is post-processing and costs no privacy.
  /// - Throws: `StrategyRoundError` when the strategy cannot aggregate
  ///   these updates, so the round is skipped.
  func aggregate(_ accepted: [ModelUpdate], round: Int) throws -> AggregationOutcome {
    var state = strategyState
    if let privacy = configuration.privacy, privacy.placement == .central {
      var clipState = adaptiveClipState
      var generator = Xoshiro256(
        seed: configuration.seed, stream: Self.centralNoiseStream + UInt64(round))
      let deltas = accepted.map(\.delta)
      let participantCount = configuration.expectedParticipantCount
      let noisy: PrivateAverage
      let clipNorm: Double
      switch privacy.clipping {
      case .fixed(let fixedNorm):
        clipNorm = fixedNorm
        noisy = privateAverage(
          deltas,
          configuration: GaussianPrivacyConfiguration(
            clipNorm: fixedNorm, noiseMultiplier: privacy.noiseMultiplier),
          participantCount: participantCount, generator: &generator)
      case .adaptive(let adaptive):
        var current = clipState ?? AdaptiveClippingState(configuration: adaptive)
        clipNorm = current.clipNorm
        noisy = adaptivePrivateAverage(
          deltas, configuration: adaptive, noiseMultiplier: privacy.noiseMultiplier,
          participantCount: participantCount, state: &current, generator: &generator)
        clipState = current
      }
      let step = try serverStepOnMean(noisy.average, state: &state)
      return AggregationOutcome(
        step: step, strategyState: state, adaptiveClipState: clipState,
        usedSiteNames: accepted.map(\.siteName), clipNorm: clipNorm)
    }

    let step: [Double]
    let used: [String]
    if configuration.aggregation == .federatedAveraging(weighting: .bySampleCount) {
      step = try federatedAverage(accepted, factors: multiplierWeightFactors(of: accepted))
      state.roundsApplied += 1
      used = accepted.map(\.siteName)
    } else {
      let result = try configuration.aggregation.aggregate(accepted, state: &state)
      step = result.step
      used = result.usedSiteNames
    }
    let clipNorm = configuration.privacy.map(\.initialClipNorm)
    return AggregationOutcome(
      step: step, strategyState: state, adaptiveClipState: adaptiveClipState,
      usedSiteNames: used, clipNorm: clipNorm)
  }

  /// Returns the weight factor of each accepted update under
  /// `CostConstraint.weightUpdatesByMultiplier`: `1 + lambda_k` with the
  /// multiplier its site trained with this round, or the factor the site
  /// sent under `scaleWeightsByAdvantageSpread`. Nil without the flag.
  func multiplierWeightFactors(of accepted: [ModelUpdate]) -> [Double]? {
    guard let constraint = configuration.costConstraint, constraint.weightUpdatesByMultiplier,
      let multipliers = siteCostMultipliers
    else { return nil }
    // Validation rejected every update without a valid factor.
    if constraint.scaleWeightsByAdvantageSpread { return accepted.map { $0.weightFactor! } }
    return accepted.map { update in
      let index = siteNames.firstIndex(of: update.siteName)!
      return 1 + multipliers[index].value
    }
  }

  /// Applies the strategy's own server optimiser, if it has one, to a mean
  /// delta; other strategies pass the mean through.
  func serverStepOnMean(
    _ mean: [Double], state: inout StrategyState
  ) throws(StrategyRoundError) -> [Double] {
    switch configuration.aggregation {
    case .federatedAveragingWithMomentum(_, let momentum):
      return try serverMomentumStep(averageDelta: mean, configuration: momentum, state: &state)
    case .adaptive(let optimizer, _, let adaptive):
      return try adaptiveServerStep(
        pseudoGradient: mean, optimizer: optimizer, configuration: adaptive, state: &state)
    default:
      state.roundsApplied += 1
      return mean
    }
  }
}
