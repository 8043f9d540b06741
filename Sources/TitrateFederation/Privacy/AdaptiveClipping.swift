#if canImport(Glibc)
  import Glibc
#endif

/// Settings of adaptive clipping (Andrew, Thakkar, McMahan and Ramaswamy,
/// "Differentially Private Learning with Adaptive Clipping", arXiv
/// 1905.03871, 2019; NeurIPS 2021):
/// the clip norm follows a private estimate of a quantile of the update
/// norms instead of being tuned by hand.
///
/// Defaults: gamma = 0.5, eta_C = 0.2 and sigma_b = m / 20, the values the
/// paper recommends as quoted in TensorFlow Privacy's
/// `QuantileAdaptiveClipSumQuery` documentation, and C0 = 0.1 as in
/// Flower 1.28's adaptive-clipping wrappers.
public struct AdaptiveClippingConfiguration: Codable, Sendable, Equatable {
  /// C0, in (0, inf): the clip norm of the first round, in parameter units.
  public var initialClipNorm: Double
  /// gamma, in [0, 1]: the fraction of updates that should stay unclipped.
  public var targetUnclippedQuantile: Double
  /// eta_C, in (0, inf): one round changes C by at most a factor exp(eta_C).
  public var clipLearningRate: Double
  /// sigma_b, in (0, inf): standard deviation of the noise on the count of
  /// unclipped updates, in updates.
  public var countNoiseStandardDeviation: Double

  /// Creates the settings, with sigma_b = m / 20 unless given.
  /// - Parameter expectedParticipantCount: m, the sites sampled per round.
  public init(
    expectedParticipantCount: Int, initialClipNorm: Double = 0.1,
    targetUnclippedQuantile: Double = 0.5, clipLearningRate: Double = 0.2,
    countNoiseStandardDeviation: Double? = nil
  ) {
    self.initialClipNorm = initialClipNorm
    self.targetUnclippedQuantile = targetUnclippedQuantile
    self.clipLearningRate = clipLearningRate
    self.countNoiseStandardDeviation =
      countNoiseStandardDeviation ?? Double(expectedParticipantCount) / 20
  }

  /// Checks the ranges and that the total noise multiplier z leaves room
  /// for the count query: z < 2 sigma_b.
  /// - Throws: `PrivacyConfigurationError` naming the first bad value.
  public func validate(noiseMultiplier z: Double) throws(PrivacyConfigurationError) {
    guard initialClipNorm > 0 && initialClipNorm.isFinite else {
      throw .parameterOutOfRange(
        name: "initial clip norm C0", value: initialClipNorm, allowed: "(0, inf)",
        fix: "set a positive clip norm in parameter units")
    }
    guard (0...1).contains(targetUnclippedQuantile) else {
      throw .parameterOutOfRange(
        name: "target unclipped quantile gamma", value: targetUnclippedQuantile,
        allowed: "[0, 1]", fix: "0.5 clips at the median norm")
    }
    guard clipLearningRate > 0 && clipLearningRate.isFinite else {
      throw .parameterOutOfRange(
        name: "clip learning rate eta_C", value: clipLearningRate, allowed: "(0, inf)",
        fix: "0.2 is the recommended value")
    }
    guard countNoiseStandardDeviation > 0 && countNoiseStandardDeviation.isFinite else {
      throw .parameterOutOfRange(
        name: "count noise sigma_b", value: countNoiseStandardDeviation, allowed: "(0, inf)",
        fix: "use the expected participants per round divided by 20")
    }
    guard z > 0 && z < 2 * countNoiseStandardDeviation else {
      throw .countNoiseTooSmall(
        noiseMultiplier: z, countNoiseStandardDeviation: countNoiseStandardDeviation)
    }
  }

  /// Computes the noise multiplier for the update sum, z_Delta = (z^-2 -
  /// (2 sigma_b)^-2)^(-1/2), so that the update sum and the noisy count
  /// together cost as much privacy as one Gaussian mechanism with
  /// multiplier z (Andrew et al.). The accountant takes z.
  /// - Precondition: 0 < z < 2 sigma_b (see `validate`).
  public func updateNoiseMultiplier(total z: Double) -> Double {
    precondition(z > 0 && z < 2 * countNoiseStandardDeviation, "need 0 < z < 2 sigma_b")
    let countTerm = 1 / (4 * countNoiseStandardDeviation * countNoiseStandardDeviation)
    return 1 / (1 / (z * z) - countTerm).squareRoot()
  }

  /// Returns the next clip norm: C * exp(-eta_C (b - gamma)), with b the
  /// noisy unclipped fraction.
  ///
  /// The count is centred as in Andrew et al. Each delta adds +1/2 when
  /// unclipped and -1/2 when clipped, so adding or removing one site moves
  /// it by 1/2, the sensitivity that `updateNoiseMultiplier` assumes. A
  /// plain count of unclipped deltas would move by 1. Then
  /// b = (centred count + countNoise) / m + 1/2, which equals
  /// (unclippedCount + countNoise) / m when all m expected sites took part.
  /// - Parameters:
  ///   - unclippedCount: deltas whose norm was at most C.
  ///   - deltaCount: all deltas of the round, clipped or not.
  ///   - countNoise: one draw of N(0, sigma_b^2).
  ///   - participantCount: m, the sites expected this round, fixed before
  ///     replies arrive.
  public func nextClipNorm(
    current clipNorm: Double, unclippedCount: Int, deltaCount: Int, countNoise: Double,
    participantCount: Int
  ) -> Double {
    let centredCount = Double(unclippedCount) - Double(deltaCount) / 2 + countNoise
    let fraction = centredCount / Double(participantCount) + 0.5
    return clipNorm * exp(-clipLearningRate * (fraction - targetUnclippedQuantile))
  }
}

/// Adaptive-clipping state carried between rounds; a checkpoint stores it.
public struct AdaptiveClippingState: Codable, Sendable, Equatable {
  /// The clip norm C for the next round, in parameter units.
  public var clipNorm: Double

  /// Creates the state of the first round.
  public init(configuration: AdaptiveClippingConfiguration) {
    clipNorm = configuration.initialClipNorm
  }

  /// Restores a stored state.
  public init(clipNorm: Double) {
    self.clipNorm = clipNorm
  }
}

/// Averages deltas under central DP with adaptive clipping, and updates
/// the clip norm.
///
/// Order, as in Andrew et al.'s algorithm: clip with the current C, add
/// noise z_Delta C to the sum, then count the unclipped updates with
/// noise and move C for the next round. The noise thus matches the clip
/// norm actually applied.
/// - Parameters:
///   - noiseMultiplier: z, the total multiplier the accountant uses.
///   - participantCount: m, the sites sampled this round (see
///     `privateAverage`).
/// - Precondition: the configuration is valid for z (see `validate`).
public func adaptivePrivateAverage(
  _ deltas: [[Double]], configuration: AdaptiveClippingConfiguration, noiseMultiplier: Double,
  participantCount: Int, state: inout AdaptiveClippingState,
  generator: inout some RandomNumberGenerator
) -> PrivateAverage {
  let clipped = clippedSum(deltas, clipNorm: state.clipNorm)
  return adaptiveNoisyAverage(
    ofClippedSum: clipped, configuration: configuration, noiseMultiplier: noiseMultiplier,
    participantCount: participantCount, state: &state, generator: &generator)
}

/// Adds noise to a sum of deltas clipped with `state.clipNorm`, divides by
/// m and updates the clip norm: the release step of
/// `adaptivePrivateAverage`, for sums formed elsewhere.
/// - Precondition: the configuration is valid for z (see `validate`).
public func adaptiveNoisyAverage(
  ofClippedSum clipped: ClippedSum, configuration: AdaptiveClippingConfiguration,
  noiseMultiplier: Double, participantCount: Int, state: inout AdaptiveClippingState,
  generator: inout some RandomNumberGenerator
) -> PrivateAverage {
  let updateMultiplier = configuration.updateNoiseMultiplier(total: noiseMultiplier)
  let gaussian = GaussianPrivacyConfiguration(
    clipNorm: state.clipNorm, noiseMultiplier: updateMultiplier)
  let result = noisyAverage(
    ofClippedSum: clipped, configuration: gaussian, participantCount: participantCount,
    generator: &generator)
  let countNoise = configuration.countNoiseStandardDeviation * generator.nextStandardNormal()
  state.clipNorm = configuration.nextClipNorm(
    current: state.clipNorm, unclippedCount: clipped.unclippedCount,
    deltaCount: clipped.deltaCount, countNoise: countNoise, participantCount: participantCount)
  return result
}
