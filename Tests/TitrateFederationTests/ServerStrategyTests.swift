import Foundation
import Testing

@testable import TitrateFederation

@Suite struct ServerStrategyTests {
  @Test func momentumAccumulatesVelocity() throws {
    // eta = 1, beta = 0.5. Round 1: v = [2, -4], step [2, -4].
    // Round 2: v = 0.5 * [2, -4] + [2, 0] = [3, -2], step [3, -2].
    let strategy = AggregationStrategy.federatedAveragingWithMomentum(
      weighting: .uniform,
      configuration: ServerMomentumConfiguration(learningRate: 1, momentum: 0.5))
    var state = StrategyState()
    #expect(try strategy.aggregate(siteUpdates([[2, -4]]), state: &state).step == [2, -4])
    #expect(try strategy.aggregate(siteUpdates([[2, 0]]), state: &state).step == [3, -2])
    #expect(state.firstMoment == [3, -2])
    #expect(state.roundsApplied == 2)
  }

  @Test func momentumScalesByLearningRate() throws {
    var state = StrategyState()
    let step = try serverMomentumStep(
      averageDelta: [2, -4], configuration: ServerMomentumConfiguration(learningRate: 0.5),
      state: &state)
    #expect(step == [1, -2])
  }

  /// Runs two rounds of an adaptive optimiser with eta = 0.1, beta1 = 0.9,
  /// beta2 = 0.99, tau = 1e-3 on the pseudo-gradients [3, 0] and [1, 0].
  func twoAdaptiveSteps(_ optimizer: AdaptiveServerOptimizer) throws -> [[Double]] {
    let strategy = AggregationStrategy.adaptive(
      optimizer: optimizer, weighting: .uniform, configuration: AdaptiveServerConfiguration())
    var state = StrategyState()
    let first = try strategy.aggregate(siteUpdates([[3, 0]]), state: &state).step
    let second = try strategy.aggregate(siteUpdates([[1, 0]]), state: &state).step
    return [first, second]
  }

  @Test func adaptiveFirstStepIsTheSameForAllThree() throws {
    // Round 1: m = 0.1 * 3 = 0.3, m_hat = 0.3 / (1 - 0.9) = 3.
    // Adam and Yogi: v = 0.01 * 9 = 0.09, v_hat = 0.09 / (1 - 0.99) = 9.
    // Adagrad: v = 9 with no correction.
    // Step = 0.1 * 3 / (sqrt(9) + 0.001) = 0.3 / 3.001.
    // A zero coordinate gives 0 / (0 + tau) = 0, not a division by zero.
    for optimizer in AdaptiveServerOptimizer.allCases {
      let steps = try twoAdaptiveSteps(optimizer)
      #expect(abs(steps[0][0] - 0.3 / 3.001) < 1e-15, "\(optimizer)")
      #expect(steps[0][1] == 0, "\(optimizer)")
      #expect(steps[1][1] == 0, "\(optimizer)")
    }
  }

  @Test func adaptiveSecondStepsDiffer() throws {
    // Round 2 with pseudo-gradient 1: m = 0.9 * 0.3 + 0.1 * 1 = 0.37,
    // m_hat = 0.37 / (1 - 0.81) = 1.947368...
    // Adam: v = 0.99 * 0.09 + 0.01 * 1 = 0.0991, v_hat = 0.0991 / 0.0199;
    //   step = 0.1 * m_hat / (sqrt(v_hat) + 0.001) = 0.087225459042589.
    // Yogi: v = 0.09 - 0.01 * 1 * sign(0.09 - 1) = 0.1, v_hat = 0.1 / 0.0199;
    //   step = 0.086832232738376.
    // Adagrad: v = 9 + 1 = 10; step = 0.1 * m_hat / (sqrt(10) + 0.001)
    //   = 0.061561729012083.
    let expected: [AdaptiveServerOptimizer: Double] = [
      .adam: 0.087225459042589, .yogi: 0.086832232738376, .adagrad: 0.061561729012083,
    ]
    for (optimizer, value) in expected {
      let steps = try twoAdaptiveSteps(optimizer)
      #expect(abs(steps[1][0] - value) < 1e-13, "\(optimizer)")
    }
  }

  @Test func stateSurvivesCodableRoundTrip() throws {
    // Stopping after round 1, storing the state and resuming gives the same
    // second step as an uninterrupted run, bit for bit.
    let strategy = AggregationStrategy.adaptive(
      optimizer: .yogi, weighting: .bySampleCount, configuration: AdaptiveServerConfiguration())
    let rounds = [siteUpdates([[0.3, -1], [0.1, 2]], samples: [2, 5]), siteUpdates([[1, 1]])]
    var uninterrupted = StrategyState()
    _ = try strategy.aggregate(rounds[0], state: &uninterrupted)
    let stored = try JSONEncoder().encode(uninterrupted)
    let expected = try strategy.aggregate(rounds[1], state: &uninterrupted).step

    var resumed = try JSONDecoder().decode(StrategyState.self, from: stored)
    let step = try strategy.aggregate(rounds[1], state: &resumed).step
    #expect(step == expected)
    #expect(resumed == uninterrupted)
  }

  @Test func stateOfWrongLengthIsRejected() {
    var state = StrategyState(roundsApplied: 1, firstMoment: [0, 0, 0], secondMoment: [0, 0, 0])
    let strategy = AggregationStrategy.adaptive(
      optimizer: .adam, weighting: .uniform, configuration: AdaptiveServerConfiguration())
    #expect(throws: StrategyRoundError.stateLengthMismatch(stored: 3, expected: 2)) {
      try strategy.aggregate(siteUpdates([[1, 2]]), state: &state)
    }
  }

  @Test func proximalGradientIsMuTimesDistance() {
    // mu = 0.5: 0.5 * ([1, 2.5] - [0, 3]) = [0.5, -0.25];
    // penalty 0.5 / 2 * (1 + 0.25) = 0.3125.
    let gradient = FedProx.proximalGradient(
      parameters: [1, 2.5], globalParameters: [0, 3], mu: 0.5)
    #expect(gradient == [0.5, -0.25])
    let penalty = FedProx.proximalPenalty(parameters: [1, 2.5], globalParameters: [0, 3], mu: 0.5)
    #expect(penalty == 0.3125)
  }
}
