import TitrateEnvironments
import TitrateRandom

/// One-step contextual bandit: the observation one-hot encodes a context
/// c in {0, 1, 2}, and action (c + 1) mod 3 pays 1, every other action 0.
/// Every step ends the episode (terminated), so the optimal mean episode
/// return is exactly 1 and a uniform policy earns 1/3.
final class ContextualBandit: VectorizedEnvironment {
  let batchSize: Int
  let observationSize = 3
  let actionSpace = ActionSpace.discrete(count: 3)
  private var generator = Xoshiro256(seed: 0)
  private var contexts: [Int]
  private var tally = EpisodeOutcomeTally()

  init(batchSize: Int) {
    self.batchSize = batchSize
    contexts = [Int](repeating: 0, count: batchSize)
  }

  /// Returns an independent environment in the same state.
  func copy() -> ContextualBandit {
    let clone = ContextualBandit(batchSize: batchSize)
    clone.generator = generator
    clone.contexts = contexts
    clone.tally = tally
    return clone
  }

  func reset(seed: UInt64) -> [Float] {
    generator = Xoshiro256(seed: seed)
    drawContexts()
    return observations()
  }

  func step(actions: [Float]) -> EnvironmentStep {
    precondition(actions.count == batchSize)
    var rewards = [Float]()
    for (index, action) in actions.enumerated() {
      let correct = Int(action) == (contexts[index] + 1) % 3
      rewards.append(correct ? 1 : 0)
      tally.episodes += 1
      tally.add("correct", correct ? 1 : 0)
    }
    let finals = observations()
    drawContexts()
    return EnvironmentStep(
      observations: observations(), rewards: rewards,
      costs: [Float](repeating: 0, count: batchSize),
      terminated: [Bool](repeating: true, count: batchSize),
      truncated: [Bool](repeating: false, count: batchSize), finalObservations: finals)
  }

  func drainEpisodeOutcomes() -> EpisodeOutcomeTally {
    defer { tally = EpisodeOutcomeTally() }
    return tally
  }

  private func drawContexts() {
    for index in contexts.indices { contexts[index] = Int(generator.nextUniform() * 3) }
  }

  private func observations() -> [Float] {
    var values = [Float](repeating: 0, count: batchSize * 3)
    for (index, context) in contexts.enumerated() { values[index * 3 + context] = 1 }
    return values
  }
}

/// One-step continuous bandit: the observation is x in (-1, 1), the best
/// action is the dose 5 + 3x within [0, 10], and the reward is
/// -(action - best)^2 / 4. The optimal mean return is 0; a policy stuck at
/// the initial mean (5) with unit policy-unit spread (5 environment units)
/// earns about -(3 + 25) / 4 = -7.
final class ContinuousBandit: VectorizedEnvironment {
  let batchSize: Int
  let observationSize = 1
  let actionSpace = ActionSpace.continuous(low: 0, high: 10)
  private var generator = Xoshiro256(seed: 0)
  private var positions: [Float]

  init(batchSize: Int) {
    self.batchSize = batchSize
    positions = [Float](repeating: 0, count: batchSize)
  }

  /// Returns an independent environment in the same state.
  func copy() -> ContinuousBandit {
    let clone = ContinuousBandit(batchSize: batchSize)
    clone.generator = generator
    clone.positions = positions
    return clone
  }

  func reset(seed: UInt64) -> [Float] {
    generator = Xoshiro256(seed: seed)
    drawPositions()
    return positions
  }

  func step(actions: [Float]) -> EnvironmentStep {
    let rewards = zip(actions, positions).map { action, position in
      let error = action - (5 + 3 * position)
      return -error * error / 4
    }
    let finals = positions
    drawPositions()
    return EnvironmentStep(
      observations: positions, rewards: rewards, costs: [Float](repeating: 0, count: batchSize),
      terminated: [Bool](repeating: true, count: batchSize),
      truncated: [Bool](repeating: false, count: batchSize), finalObservations: finals)
  }

  func drainEpisodeOutcomes() -> EpisodeOutcomeTally { EpisodeOutcomeTally() }

  private func drawPositions() {
    for index in positions.indices { positions[index] = Float(generator.nextUniform() * 2 - 1) }
  }
}

/// One-step bandit with a safety cost and a known constrained optimum.
/// Action 0 pays 1 and costs 1, action 1 pays 0.6 and costs 0, action 2
/// pays 0 and costs 0. Without a constraint the best policy always picks
/// action 0 (return 1, cost 1). With an expected cost of at most d < 1 the
/// best policy picks action 0 with probability d and action 1 otherwise,
/// for a return of 0.6 + 0.4 d. Its Lagrange multiplier is 0.4, where the
/// shaped rewards (1 - lambda) and 0.6 of actions 0 and 1 are equal.
final class CostlyBandit: VectorizedEnvironment {
  let batchSize: Int
  let observationSize = 1
  let actionSpace = ActionSpace.discrete(count: 3)

  init(batchSize: Int) { self.batchSize = batchSize }

  func reset(seed: UInt64) -> [Float] { [Float](repeating: 1, count: batchSize) }

  func step(actions: [Float]) -> EnvironmentStep {
    let rewards = actions.map { (action: Float) -> Float in [1, 0.6, 0][Int(action)] }
    let costs = actions.map { (action: Float) -> Float in action == 0 ? 1 : 0 }
    let ones = [Float](repeating: 1, count: batchSize)
    return EnvironmentStep(
      observations: ones, rewards: rewards, costs: costs,
      terminated: [Bool](repeating: true, count: batchSize),
      truncated: [Bool](repeating: false, count: batchSize), finalObservations: ones)
  }

  func drainEpisodeOutcomes() -> EpisodeOutcomeTally { EpisodeOutcomeTally() }
}
