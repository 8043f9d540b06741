import Testing

@testable import TitrateRL

@Suite struct GeneralizedAdvantageEstimationTests {
  /// Two environments, four steps, gamma 0.9, lambda 0.8 (gamma * lambda =
  /// 0.72). Environment 0: step 1 is truncated with V(final) = 3, step 3
  /// terminates. Environment 1 never ends and bootstraps V = 5 after step 3.
  @Test func matchesHandComputedOracle() {
    // Time-major: [t0e0, t0e1, t1e0, t1e1, ...].
    let rewards: [Float] = [1, 0, 2, 0, 3, 0, 4, 1]
    let values: [Float] = [0.5, 0, 1, 0, 1.5, 0, 2, 0]
    let nextValues: [Float] = [1, 0, 3, 0, 2, 0, 99, 5]
    let terminated = [false, false, false, false, false, false, true, false]
    let truncated = [false, false, true, false, false, false, false, false]
    let (advantages, returns) = generalizedAdvantageEstimates(
      rewards: rewards, values: values, nextValues: nextValues, terminated: terminated,
      truncated: truncated, environmentCount: 2, gamma: 0.9, lambda: 0.8)

    // Environment 0, backwards:
    //   t3 terminated: delta = 4 - 2 = 2, A = 2
    //   t2: delta = 3 + 0.9 * 2 - 1.5 = 3.3, A = 3.3 + 0.72 * 2 = 4.74
    //   t1 truncated: delta = 2 + 0.9 * 3 - 1 = 3.7, A = 3.7 (no carry)
    //   t0: delta = 1 + 0.9 * 1 - 0.5 = 1.4, A = 1.4 + 0.72 * 3.7 = 4.064
    // Environment 1: A3 = 1 + 0.9 * 5 = 5.5, then A_t = 0.72 * A_{t+1}.
    let expected: [Float] = [4.064, 2.052864, 3.7, 2.8512, 4.74, 3.96, 2, 5.5]
    for index in expected.indices {
      #expect(abs(advantages[index] - expected[index]) <= 1e-5, "advantage \(index)")
      #expect(abs(returns[index] - (expected[index] + values[index])) <= 1e-5, "return \(index)")
    }
  }

  @Test func lambdaOneGivesDiscountedReturnsMinusValues() {
    // Constant value 1, one environment, no episode end, bootstrap 1.
    let (advantages, _) = generalizedAdvantageEstimates(
      rewards: [1, 1, 1], values: [1, 1, 1], nextValues: [1, 1, 1],
      terminated: [false, false, false], truncated: [false, false, false],
      environmentCount: 1, gamma: 0.5, lambda: 1)
    // G_0 = 1 + 0.5 + 0.25 + 0.125 * 1 = 1.875, so A_0 = 0.875.
    #expect(abs(advantages[0] - 0.875) <= 1e-6)
    #expect(abs(advantages[2] - 0.5) <= 1e-6)
  }

  @Test func explainedVarianceOfPerfectAndConstantPredictions() {
    let targets: [Float] = [1, 2, 3, 4]
    #expect(explainedVariance(predictions: targets, targets: targets) == 1)
    #expect(abs(explainedVariance(predictions: [2.5, 2.5, 2.5, 2.5], targets: targets)) <= 1e-12)
  }
}
