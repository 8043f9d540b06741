import Testing
import TitrateEnvironments
import TitratePolicy
import TitrateRandom

@testable import TitrateRL

/// An environment whose episodes last one step and end by truncation (or
/// termination) with reward 0. The final observation of every episode is
/// `[1, 0]` and every new episode starts at `[0, 1]`, so a learner that
/// bootstraps from the already-reset observation instead of the final one
/// is visible in its value targets.
final class OneStepEpisodes: VectorizedEnvironment {
  let batchSize: Int
  let observationSize = 2
  let actionSpace = ActionSpace.discrete(count: 2)
  let truncates: Bool

  init(batchSize: Int, truncates: Bool) {
    self.batchSize = batchSize
    self.truncates = truncates
  }

  func start() -> [Float] { Array([[Float]](repeating: [0, 1], count: batchSize).joined()) }

  func reset(seed: UInt64) -> [Float] { start() }

  func step(actions: [Float]) -> EnvironmentStep {
    EnvironmentStep(
      observations: start(), rewards: [Float](repeating: 0, count: batchSize),
      costs: [Float](repeating: 0, count: batchSize),
      terminated: [Bool](repeating: !truncates, count: batchSize),
      truncated: [Bool](repeating: truncates, count: batchSize),
      finalObservations: Array([[Float]](repeating: [1, 0], count: batchSize).joined()))
  }

  func drainEpisodeOutcomes() -> EpisodeOutcomeTally { EpisodeOutcomeTally() }
}

@Suite struct TruncationBootstrapTests {
  func learner() throws -> PPOLearner {
    var configuration = PPOConfiguration()
    configuration.stepsPerRollout = 3
    configuration.minibatchSize = 4
    configuration.normalizeObservations = false
    configuration.gamma = 0.9
    configuration.gaeLambda = 0.8
    configuration.hiddenSizes = [4]
    return try PPOLearner(
      configuration: configuration, observationSize: 2, actionSpace: .discrete(count: 2),
      seed: 5)
  }

  @Test func truncatedStepBootstrapsFromFinalObservation() throws {
    let learner = try learner()
    let environment = OneStepEpisodes(batchSize: 2, truncates: true)
    var metrics = PPOIterationMetrics()
    let rollout = learner.collectRollout(environment: environment, metrics: &metrics)
    let finalValue = learner.actorCritic.values(observations: [1, 0], count: 1)[0]
    let startValue = learner.actorCritic.values(observations: [0, 1], count: 1)[0]
    #expect(finalValue != startValue)
    for index in 0..<rollout.transitionCount {
      // r = 0, one-step episodes: target = gamma * V(final observation).
      #expect(abs(rollout.returns[index] - 0.9 * finalValue) < 1e-6, "entry \(index)")
      #expect(abs(rollout.advantages[index] - (0.9 * finalValue - startValue)) < 1e-6)
    }
    #expect(metrics.episodesFinished == 6)
  }

  @Test func terminatedStepDoesNotBootstrap() throws {
    let learner = try learner()
    let environment = OneStepEpisodes(batchSize: 2, truncates: false)
    var metrics = PPOIterationMetrics()
    let rollout = learner.collectRollout(environment: environment, metrics: &metrics)
    let startValue = learner.actorCritic.values(observations: [0, 1], count: 1)[0]
    for index in 0..<rollout.transitionCount {
      #expect(rollout.returns[index] == 0, "entry \(index)")
      #expect(abs(rollout.advantages[index] + startValue) < 1e-6)
    }
  }
}
