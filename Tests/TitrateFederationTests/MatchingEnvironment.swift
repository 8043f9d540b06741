import TitrateEnvironments
import TitrateRandom

/// A contextual bandit for federation tests: each step shows one of three
/// contexts (one-hot) and pays 1 when the action equals the context index.
/// Episodes last four steps and end in termination. `bias` skews which
/// contexts a site sees, so sites are non-IID. Action 0 costs 1 (a
/// safety cost that only constrained runs use).
final class MatchingEnvironment: VectorizedEnvironment {
  let batchSize: Int
  let observationSize = 3
  let actionSpace = ActionSpace.discrete(count: 3)
  let bias: Double
  private var generator = Xoshiro256(seed: 0)
  private var contexts: [Int]
  private var stepsTaken: [Int]
  private var tally = EpisodeOutcomeTally()
  private var episodeRewards: [Double]

  init(batchSize: Int, bias: Double = 0) {
    self.batchSize = batchSize
    self.bias = bias
    contexts = Array(repeating: 0, count: batchSize)
    stepsTaken = Array(repeating: 0, count: batchSize)
    episodeRewards = Array(repeating: 0, count: batchSize)
  }

  private func drawContext() -> Int {
    if generator.nextUniform() < bias { return 0 }
    return Int(generator.next() % 3)
  }

  private func observations() -> [Float] {
    var values = [Float](repeating: 0, count: batchSize * 3)
    for index in 0..<batchSize { values[index * 3 + contexts[index]] = 1 }
    return values
  }

  func reset(seed: UInt64) -> [Float] {
    generator = Xoshiro256(seed: seed)
    for index in 0..<batchSize {
      contexts[index] = drawContext()
      stepsTaken[index] = 0
      episodeRewards[index] = 0
    }
    return observations()
  }

  func step(actions: [Float]) -> EnvironmentStep {
    var rewards = [Float](repeating: 0, count: batchSize)
    var terminated = [Bool](repeating: false, count: batchSize)
    var costs = [Float](repeating: 0, count: batchSize)
    let final = observations()
    for index in 0..<batchSize {
      rewards[index] = Int(actions[index]) == contexts[index] ? 1 : 0
      costs[index] = Int(actions[index]) == 0 ? 1 : 0
      episodeRewards[index] += Double(rewards[index])
      stepsTaken[index] += 1
      if stepsTaken[index] == 4 {
        terminated[index] = true
        tally.episodes += 1
        tally.add("day3InTarget", episodeRewards[index] == 4 ? 1 : 0)
        stepsTaken[index] = 0
        episodeRewards[index] = 0
      }
      contexts[index] = drawContext()
    }
    return EnvironmentStep(
      observations: observations(), rewards: rewards, costs: costs, terminated: terminated,
      truncated: [Bool](repeating: false, count: batchSize), finalObservations: final)
  }

  func drainEpisodeOutcomes() -> EpisodeOutcomeTally {
    defer { tally = EpisodeOutcomeTally() }
    return tally
  }
}
