import TitrateFederation

/// Returns a small per-site-normalised run on the `matching` test
/// environment: `sites` sites of 8 patients, 4-step rollouts, 2 epochs of
/// 16-row minibatches, one hidden layer of 4 units and a 0.01 step.
func smallRunConfiguration(sites: Int, rounds: Int, seed: UInt64) -> FederationConfiguration {
  var configuration = FederationConfiguration()
  configuration.environment = "matching"
  configuration.sites = (0..<sites).map {
    SiteConfiguration(name: "site_\($0)", population: "p\($0)", patientsPerBatch: 8)
  }
  configuration.rounds = rounds
  configuration.seed = seed
  configuration.observationNormalization = .perSite
  configuration.ppo.stepsPerRollout = 4
  configuration.ppo.minibatchSize = 16
  configuration.ppo.updateEpochs = 2
  configuration.ppo.hiddenSizes = [4]
  configuration.ppo.iterations = rounds
  configuration.ppo.learningRate = 0.01
  return configuration
}
