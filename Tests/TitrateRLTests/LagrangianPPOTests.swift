import Foundation
import Testing
import TitrateEnvironments

@testable import TitrateRL

@Suite struct LagrangeMultiplierTests {
  @Test func stepsByExcessWithinBounds() {
    var multiplier = LagrangeMultiplier(
      constraint: CostConstraint(
        costLimit: 0.1, multiplierLearningRate: 2, initialMultiplier: 0.5, maximumMultiplier: 1))
    // 0.5 + 2 (0.3 - 0.1) = 0.9
    multiplier.update(meanEpisodeCost: 0.3)
    #expect(abs(multiplier.value - 0.9) < 1e-12)
    // 0.9 + 2 (0.2 - 0.1) = 1.1, capped at the maximum 1
    multiplier.update(meanEpisodeCost: 0.2)
    #expect(multiplier.value == 1)
    // No finished episode, or a non-finite measurement: unchanged.
    multiplier.update(meanEpisodeCost: nil)
    multiplier.update(meanEpisodeCost: .nan)
    #expect(multiplier.value == 1)
    // 1 + 2 (0 - 0.1) = 0.8, then 0.8 - 0.2 x 5 steps reaches 0 and stays.
    for _ in 0..<6 { multiplier.update(meanEpisodeCost: 0) }
    #expect(multiplier.value == 0)
  }

  /// PID form (Stooke et al. 2020) worked by hand with K_P = 1, K_I = 0.5,
  /// K_D = 2, limit 0.1.
  @Test func pidTermsAddUp() throws {
    var multiplier = LagrangeMultiplier(
      constraint: CostConstraint(
        costLimit: 0.1, multiplierLearningRate: 0.5, proportionalGain: 1, derivativeGain: 2))
    // e = 0.3: integral 0.15; lambda = 0.3 + 0.15 + 2 x 0 (no previous) = 0.45
    multiplier.update(meanEpisodeCost: 0.4)
    #expect(abs(multiplier.integral - 0.15) < 1e-12)
    #expect(abs(multiplier.value - 0.45) < 1e-12)
    // e = 0.4: integral 0.35; rise 0.1; lambda = 0.4 + 0.35 + 0.2 = 0.95
    multiplier.update(meanEpisodeCost: 0.5)
    #expect(abs(multiplier.value - 0.95) < 1e-12)
    // e = -0.1: integral 0.3; falling cost adds nothing; lambda = -0.1 + 0.3 = 0.2
    multiplier.update(meanEpisodeCost: 0.0)
    #expect(abs(multiplier.integral - 0.3) < 1e-12)
    #expect(abs(multiplier.value - 0.2) < 1e-12)
    #expect(multiplier.previousCost == 0)
    // Resuming from the stored parts continues identically.
    var resumed = try LagrangeMultiplier(
      constraint: multiplier.constraint, value: multiplier.value, integral: multiplier.integral,
      previousCost: multiplier.previousCost)
    multiplier.update(meanEpisodeCost: 0.7)
    resumed.update(meanEpisodeCost: 0.7)
    #expect(resumed == multiplier)
    #expect(throws: LagrangeMultiplierStateError.self) {
      try LagrangeMultiplier(
        constraint: multiplier.constraint, value: -1, integral: 0, previousCost: nil)
    }
  }

  /// Log-scale error worked by hand with K_I = 1, K_P = 2, limit 0.02: a
  /// cost at twice the limit fills as much as one at half drains.
  @Test func logScaleErrorIsSymmetric() throws {
    let constraint = CostConstraint(
      costLimit: 0.02, multiplierLearningRate: 1, proportionalGain: 2, logScaleError: true)
    var multiplier = LagrangeMultiplier(constraint: constraint)
    // e = ln 2 = 0.693147: integral 0.693147, lambda = 2 e + integral = 2.079442
    multiplier.update(meanEpisodeCost: 0.04)
    #expect(abs(multiplier.integral - 0.693_147_18) < 1e-8)
    #expect(abs(multiplier.value - 2.079_441_54) < 1e-8)
    // e = ln 0.5: the integral returns to 0 and lambda = max(0, 2 e) = 0
    multiplier.update(meanEpisodeCost: 0.01)
    #expect(abs(multiplier.integral) < 1e-12)
    #expect(multiplier.value == 0)
    // A cost of 0 is floored at a tenth of the limit: e = ln 0.1.
    #expect(abs(constraint.error(cost: 0) - Foundation.log(0.1)) < 1e-12)
    #expect(abs(constraint.error(cost: 0.05) - Foundation.log(2.5)) < 1e-12)
    #expect(CostConstraint(costLimit: 0.02).error(cost: 0.05) == 0.05 - 0.02)
    // Stored only when set; a zero limit has no log ratio.
    let data = try JSONEncoder().encode(constraint)
    #expect(try JSONDecoder().decode(CostConstraint.self, from: data) == constraint)
    let zero = CostConstraint(costLimit: 0, logScaleError: true).problems()
    #expect(zero.count == 1)
    #expect(zero.first?.contains("a log-scale error needs a limit > 0") == true)
  }

  @Test func absentKeysKeepDefaults() throws {
    let decoded = try JSONDecoder().decode(
      CostConstraint.self, from: Data(#"{"costLimit": 0.04, "proportionalGain": 3}"#.utf8))
    #expect(decoded == CostConstraint(costLimit: 0.04, proportionalGain: 3))
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(CostConstraint.self, from: Data(#"{"proportionalGain": 3}"#.utf8))
    }
  }

  @Test func invalidConstraintsNameValues() {
    let problems = CostConstraint(
      costLimit: .infinity, multiplierLearningRate: -1, initialMultiplier: -0.5,
      maximumMultiplier: 0
    ).problems()
    #expect(problems.count == 4)
    #expect(problems[0].contains("costLimit is inf"))
    #expect(problems[1].contains("multiplierLearningRate is -1.0"))
    #expect(problems[2].contains("maximumMultiplier is 0.0"))
    #expect(problems[3].contains("initialMultiplier is -0.5"))
    let gains = CostConstraint(costLimit: 0, proportionalGain: -1, derivativeGain: .nan)
    #expect(
      gains.problems() == [
        "proportionalGain is -1.0; use a finite value >= 0",
        "derivativeGain is nan; use a finite value >= 0",
      ])
    #expect(CostConstraint(costLimit: 0).problems().isEmpty)
  }
}

@Suite struct LagrangianPPOTests {
  func configuration() -> PPOConfiguration {
    var configuration = PPOConfiguration()
    configuration.stepsPerRollout = 1
    configuration.minibatchSize = 64
    configuration.updateEpochs = 1
    configuration.learningRate = 0.003
    configuration.annealLearningRate = false
    configuration.hiddenSizes = [8]
    configuration.normalizeObservations = false
    configuration.seed = 3
    return configuration
  }

  /// Trains on `CostlyBandit` for `iterations` and updates the multiplier
  /// after each iteration when a constraint is given. Returns the mean
  /// cost, return and multiplier of the last `window` iterations.
  func train(constraint: CostConstraint?, iterations: Int, window: Int) throws -> (
    cost: Double, episodeReturn: Double, multiplier: Double
  ) {
    let learner = try PPOLearner(
      configuration: configuration(), observationSize: 1, actionSpace: .discrete(count: 3))
    let environment = CostlyBandit(batchSize: 256)
    var multiplier = constraint.map { LagrangeMultiplier(constraint: $0) }
    var cost = 0.0
    var episodeReturn = 0.0
    var multiplierSum = 0.0
    for iteration in 0..<iterations {
      learner.costMultiplier = Float(multiplier?.value ?? 0)
      let metrics = try #require(
        Optional(learner.trainIteration(environment: environment)))
      #expect(metrics.costMultiplier == Double(learner.costMultiplier))
      multiplier?.update(meanEpisodeCost: metrics.meanEpisodeCost)
      if iteration >= iterations - window {
        cost += metrics.meanEpisodeCost!
        episodeReturn += metrics.meanEpisodeReturn!
        multiplierSum += Double(learner.costMultiplier)
      }
    }
    let count = Double(window)
    return (cost / count, episodeReturn / count, multiplierSum / count)
  }

  @Test func unconstrainedTakesCostlyAction() throws {
    let result = try train(constraint: nil, iterations: 150, window: 30)
    #expect(result.cost > 0.9)
    #expect(result.episodeReturn > 0.95)
  }

  /// The constrained optimum for d = 0.2 costs 0.2 and returns
  /// 0.6 + 0.4 x 0.2 = 0.68 with multiplier 0.4 (see `CostlyBandit`).
  /// Primal-dual iterates oscillate around it, so the test averages the
  /// last 100 iterations and allows 0.05 on cost and return.
  @Test func constrainedOptimumIsReached() throws {
    let constraint = CostConstraint(
      costLimit: 0.2, multiplierLearningRate: 0.05, proportionalGain: 2)
    let result = try train(constraint: constraint, iterations: 600, window: 100)
    #expect(abs(result.cost - 0.2) < 0.05)
    #expect(abs(result.episodeReturn - 0.68) < 0.05)
    #expect(abs(result.multiplier - 0.4) < 0.15)
  }
}
