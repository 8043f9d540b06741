import Foundation
import Testing
import TitrateRandom

@testable import TitrateFederation

/// Sample mean and standard deviation.
func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, standardDeviation: Double) {
  let mean = values.reduce(0, +) / Double(values.count)
  let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
  return (mean, variance.squareRoot())
}

@Suite struct PrivacyMechanismTests {
  @Test func clippingScalesLongDeltas() {
    // ||[3, 4]|| = 5 > C = 1, so the factor is 1 / 5: [0.6, 0.8].
    let clipped = clipDelta([3, 4], clipNorm: 1)
    #expect(clipped.originalNorm == 5)
    #expect(clipped.wasClipped)
    #expect(abs(clipped.delta[0] - 0.6) < 1e-15)
    #expect(abs(clipped.delta[1] - 0.8) < 1e-15)
  }

  @Test func clippingKeepsShortAndZeroDeltas() {
    #expect(
      clipDelta([0.3, 0.4], clipNorm: 1)
        == ClippedDelta(delta: [0.3, 0.4], originalNorm: 0.5, wasClipped: false))
    // The zero vector has norm 0 <= C, so no division happens.
    #expect(
      clipDelta([0, 0, 0], clipNorm: 1)
        == ClippedDelta(delta: [0, 0, 0], originalNorm: 0, wasClipped: false))
    // A norm exactly at C is not clipped.
    #expect(!clipDelta([3, 4], clipNorm: 5).wasClipped)
  }

  @Test func normOfHugeValuesDoesNotOverflow() {
    // sqrt(2) * 1e200: the squares alone would overflow.
    let norm = euclideanNorm([1e200, -1e200])
    #expect(abs(norm / 1e200 - 2.0.squareRoot()) < 1e-15)
  }

  @Test func privateAverageWithoutNoiseIsClippedMean() {
    // C = 1: [3, 4] -> [0.6, 0.8]; [0, 0] and [0.3, 0.4] stay.
    // ([0.6, 0.8] + [0, 0] + [0.3, 0.4]) / 3 = [0.3, 0.4]; two unclipped.
    var generator = Xoshiro256(seed: 1)
    let result = privateAverage(
      [[3, 4], [0, 0], [0.3, 0.4]],
      configuration: GaussianPrivacyConfiguration(clipNorm: 1, noiseMultiplier: 0),
      participantCount: 3, generator: &generator)
    #expect(abs(result.average[0] - 0.3) < 1e-15)
    #expect(abs(result.average[1] - 0.4) < 1e-15)
    #expect(result.unclippedCount == 2)
    #expect(result.noiseStandardDeviation == 0)
  }

  @Test func privateAverageNoiseHasStandardDeviationZCOverM() {
    // z = 2, C = 0.5, m = 4: standard deviation z C / m = 0.25 on each of
    // 20,000 coordinates. The sample standard deviation has a standard
    // error of 0.25 / sqrt(2 * 20000) = 0.00125; the check allows 5 of
    // them. The sample mean has a standard error of 0.25 / sqrt(20000) =
    // 0.0018; the check allows 5 of them. The seed is fixed, so the test
    // is deterministic.
    var generator = Xoshiro256(seed: 2024)
    let zeros = [[Double]](repeating: [Double](repeating: 0, count: 20_000), count: 4)
    let result = privateAverage(
      zeros, configuration: GaussianPrivacyConfiguration(clipNorm: 0.5, noiseMultiplier: 2),
      participantCount: 4, generator: &generator)
    #expect(result.noiseStandardDeviation == 0.25)
    let statistics = meanAndStandardDeviation(result.average)
    #expect(abs(statistics.standardDeviation - 0.25) < 5 * 0.00125)
    #expect(abs(statistics.mean) < 5 * 0.0018)
  }

  @Test func localNoiseHasStandardDeviationZC() {
    // z = 1.5, C = 2: clip [0, ..., 0] (unchanged), then noise z C = 3 per
    // coordinate. Standard error of the sample standard deviation:
    // 3 / sqrt(2 * 20000) = 0.015; the check allows 5 of them.
    var generator = Xoshiro256(seed: 7)
    let configuration = GaussianPrivacyConfiguration(clipNorm: 2, noiseMultiplier: 1.5)
    let noisy = locallyPrivateDelta(
      [Double](repeating: 0, count: 20_000), configuration: configuration, generator: &generator)
    #expect(abs(meanAndStandardDeviation(noisy).standardDeviation - 3) < 5 * 0.015)
    // Without noise, local DP is clipping alone: [3, 4] -> 2 * [0.6, 0.8].
    let clippedOnly = locallyPrivateDelta(
      [3, 4], configuration: GaussianPrivacyConfiguration(clipNorm: 2, noiseMultiplier: 0),
      generator: &generator)
    #expect(abs(clippedOnly[0] - 1.2) < 1e-15)
    #expect(abs(clippedOnly[1] - 1.6) < 1e-15)
  }

  @Test func gaussianConfigurationRejectsBadValues() {
    #expect(throws: PrivacyConfigurationError.self) {
      try GaussianPrivacyConfiguration(clipNorm: 0, noiseMultiplier: 1).validate()
    }
    #expect(throws: PrivacyConfigurationError.self) {
      try GaussianPrivacyConfiguration(clipNorm: 1, noiseMultiplier: -1).validate()
    }
  }

  @Test func adaptiveUpdateNoiseMultiplierKeepsTotal() {
    // z = 1, sigma_b = 1: z_Delta = (1 - 1 / 4)^(-1/2) = 1 / sqrt(0.75).
    let configuration = AdaptiveClippingConfiguration(
      expectedParticipantCount: 20, countNoiseStandardDeviation: 1)
    let updateMultiplier = configuration.updateNoiseMultiplier(total: 1)
    #expect(abs(updateMultiplier - 1 / 0.75.squareRoot()) < 1e-15)
    // Recombining: (z_Delta^-2 + (2 sigma_b)^-2)^(-1/2) = z.
    let total = 1 / (1 / (updateMultiplier * updateMultiplier) + 0.25).squareRoot()
    #expect(abs(total - 1) < 1e-15)
  }

  @Test func adaptiveConfigurationNeedsRoomForCount() {
    // m = 10 gives sigma_b = 10 / 20 = 0.5, so z must stay below 1.
    let configuration = AdaptiveClippingConfiguration(expectedParticipantCount: 10)
    #expect(configuration.countNoiseStandardDeviation == 0.5)
    #expect(
      throws: PrivacyConfigurationError.countNoiseTooSmall(
        noiseMultiplier: 1, countNoiseStandardDeviation: 0.5)
    ) {
      try configuration.validate(noiseMultiplier: 1)
    }
    #expect(throws: Never.self) { try configuration.validate(noiseMultiplier: 0.99) }
  }

  @Test func clipNormMovesGeometrically() {
    // C = 1, gamma = 0.5, eta_C = 0.2, m = 4, 3 unclipped.
    // No count noise: b = 3 / 4 = 0.75, C' = exp(-0.2 * 0.25) = exp(-0.05).
    // Count noise +1: b = 4 / 4 = 1, C' = exp(-0.2 * 0.5) = exp(-0.1).
    let configuration = AdaptiveClippingConfiguration(expectedParticipantCount: 4)
    let quiet = configuration.nextClipNorm(
      current: 1, unclippedCount: 3, deltaCount: 4, countNoise: 0, participantCount: 4)
    #expect(abs(quiet - exp(-0.05)) < 1e-15)
    let noisy = configuration.nextClipNorm(
      current: 1, unclippedCount: 3, deltaCount: 4, countNoise: 1, participantCount: 4)
    #expect(abs(noisy - exp(-0.1)) < 1e-15)
  }

  @Test func clipNormSettlesNearTargetQuantile() {
    // Five sites with update norms 1, 2, 3, 4, 5 and gamma = 0.5: when
    // C < 3 two of five stay unclipped (b = 0.4) and C grows by exp(0.02);
    // when 3 <= C < 4 three do (b = 0.6) and C shrinks by exp(-0.02). So C
    // ends within a factor exp(0.02) of the median norm 3. sigma_b = 0.01
    // keeps the count noise small; z = 0.01 < 2 sigma_b.
    let configuration = AdaptiveClippingConfiguration(
      expectedParticipantCount: 5, initialClipNorm: 0.1, countNoiseStandardDeviation: 0.01)
    var state = AdaptiveClippingState(configuration: configuration)
    var generator = Xoshiro256(seed: 11)
    let deltas: [[Double]] = [[1], [2], [3], [4], [5]]
    for _ in 0..<400 {
      _ = adaptivePrivateAverage(
        deltas, configuration: configuration, noiseMultiplier: 0.01, participantCount: 5,
        state: &state, generator: &generator)
    }
    #expect(state.clipNorm > 3 * exp(-0.03))
    #expect(state.clipNorm < 3 * exp(0.03))
  }

  /// The formula for z_Delta assumes that one site moves the released
  /// count by at most 1/2, so the count is centred. A site adds +1/2 when
  /// unclipped and -1/2 when clipped. Adding a site of either kind to a
  /// round must then move b by exactly 1 / (2 m), with the same noise.
  @Test func oneSiteMovesTheCountByHalf() {
    let configuration = AdaptiveClippingConfiguration(
      expectedParticipantCount: 4, initialClipNorm: 1, countNoiseStandardDeviation: 1)
    func fraction(_ deltas: [[Double]]) -> Double {
      var state = AdaptiveClippingState(configuration: configuration)
      var generator = Xoshiro256(seed: 8)
      _ = adaptivePrivateAverage(
        deltas, configuration: configuration, noiseMultiplier: 1, participantCount: 4,
        state: &state, generator: &generator)
      // C' = C exp(-eta_C (b - gamma)) with C = 1 gives b back.
      return configuration.targetUnclippedQuantile
        - log(state.clipNorm) / configuration.clipLearningRate
    }
    let round: [[Double]] = [[10], [0.1], [10]]
    let withClipped = fraction(round + [[10]])
    let withUnclipped = fraction(round + [[0.1]])
    let without = fraction(round)
    #expect(abs(withClipped - without + 1.0 / 8) < 1e-12)
    #expect(abs(withUnclipped - without - 1.0 / 8) < 1e-12)
  }

  @Test func adaptiveNoiseUsesClipNormOfTheRound() {
    // The noise reported is z_Delta * C_t / m with C_t the clip norm applied
    // this round, not the updated one.
    let configuration = AdaptiveClippingConfiguration(
      expectedParticipantCount: 20, initialClipNorm: 2, countNoiseStandardDeviation: 1)
    var state = AdaptiveClippingState(configuration: configuration)
    var generator = Xoshiro256(seed: 3)
    let result = adaptivePrivateAverage(
      [[10], [10]], configuration: configuration, noiseMultiplier: 1, participantCount: 2,
      state: &state, generator: &generator)
    let expected = configuration.updateNoiseMultiplier(total: 1) * 2 / 2
    #expect(abs(result.noiseStandardDeviation - expected) < 1e-15)
    #expect(state.clipNorm != 2)
  }
}
