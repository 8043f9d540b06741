import TitrateEnvironments
import TitrateRandom

extension PPOLearner {
  /// Starts new episodes in every environment of the batch with `seed` and
  /// makes the next rollout begin from them. Federated sites call this at
  /// the start of each round, so a round's patients depend only on the run
  /// seed, the site and the round, and a resumed run replays them.
  public func resetEnvironment(_ environment: any VectorizedEnvironment, seed: UInt64) {
    currentObservations = environment.reset(seed: seed)
    runningReturns = [Double](repeating: 0, count: environment.batchSize)
    runningCosts = [Double](repeating: 0, count: environment.batchSize)
    _ = environment.drainEpisodeOutcomes()
  }
}

extension PPOLearner {
  /// Returns the mean episode cost of one episode in every environment of
  /// the batch, started from `seed` and dosed by the current policy's most
  /// likely action. Nothing is learned and the observation statistics are
  /// not updated. Call `resetEnvironment` before the next rollout, because
  /// this leaves the environment at the start of new episodes.
  /// - Parameter maximumSteps: a bound for environments whose episodes
  ///   never end; 10,000 decisions by default.
  public func deterministicEpisodeCost(
    _ environment: any VectorizedEnvironment, seed: UInt64, maximumSteps: Int = 10_000
  ) -> Double {
    let count = environment.batchSize
    var observations = environment.reset(seed: seed)
    var costs = [Double](repeating: 0, count: count)
    var finished = [Bool](repeating: false, count: count)
    var remaining = count
    // Deterministic actions draw nothing from the generator.
    var unused = Xoshiro256(seed: 0)
    var steps = 0
    while remaining > 0, steps < maximumSteps {
      let actions = self.actions(
        observations: observations, count: count, deterministic: true, generator: &unused)
      let step = environment.step(actions: actions)
      for p in 0..<count where !finished[p] {
        costs[p] += Double(step.costs[p])
        if step.terminated[p] || step.truncated[p] {
          finished[p] = true
          remaining -= 1
        }
      }
      observations = step.observations
      steps += 1
    }
    _ = environment.drainEpisodeOutcomes()
    return costs.reduce(0, +) / Double(max(count, 1))
  }
}
