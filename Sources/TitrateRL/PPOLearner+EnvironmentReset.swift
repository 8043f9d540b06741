import TitrateEnvironments

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
