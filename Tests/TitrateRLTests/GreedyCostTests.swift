import Foundation
import Testing
import TitrateEnvironments
import TitrateLinearAlgebra

@testable import TitrateRL

/// The greedy-policy cost that a constraint can step its multiplier from,
/// against `CostlyBandit`, where action 0 costs 1 and the others cost 0.
@Suite struct GreedyCostTests {
  /// Returns a learner whose policy ignores its input and has the given
  /// output logits.
  static func learner(logits: [Float]) throws -> PPOLearner {
    var configuration = PPOConfiguration()
    configuration.hiddenSizes = [4]
    configuration.normalizeObservations = false
    let learner = try PPOLearner(
      configuration: configuration, observationSize: 1, actionSpace: .discrete(count: 3))
    var network = learner.actorCritic
    let last = network.policy.layers.count - 1
    let shape = network.policy.layers[last].weight
    network.policy.layers[last].weight = Matrix(rows: shape.rows, columns: shape.columns)
    network.policy.layers[last].bias = logits
    learner.setParameterVector(network.parameterVector())
    return learner
  }

  @Test func greedyCostFollowsMostLikelyAction() throws {
    let environment = CostlyBandit(batchSize: 64)
    let costly = try Self.learner(logits: [3, 0, 0])
    #expect(costly.deterministicEpisodeCost(environment, seed: 1) == 1)
    let safe = try Self.learner(logits: [0, 3, 0])
    #expect(safe.deterministicEpisodeCost(environment, seed: 1) == 0)
  }

  /// With logits (1, 1.5, 0) the most likely action is free, but sampling
  /// picks the costly one with probability e / (e + e^1.5 + 1) = 0.32.
  @Test func sampledRolloutsCostMoreThanGreedy() throws {
    let environment = CostlyBandit(batchSize: 2048)
    let learner = try Self.learner(logits: [1, 1.5, 0])
    #expect(learner.deterministicEpisodeCost(environment, seed: 2) == 0)
    learner.resetEnvironment(environment, seed: 2)
    let sampled = try #require(learner.trainIteration(environment: environment).meanEpisodeCost)
    // Binomial standard deviation at 2048 draws is about 0.01.
    #expect(abs(sampled - 0.32) < 0.05, "sampled cost \(sampled)")
  }

  @Test func constraintKeyRoundTrips() throws {
    let constraint = CostConstraint(costLimit: 0.05, perSite: true, onGreedyPolicy: true)
    let data = try JSONEncoder().encode(constraint)
    #expect(try JSONDecoder().decode(CostConstraint.self, from: data) == constraint)
    let plain = try JSONEncoder().encode(CostConstraint(costLimit: 0.05))
    #expect(!String(decoding: plain, as: UTF8.self).contains("onGreedyPolicy"))
  }
}
