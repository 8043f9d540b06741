import Testing
import TitrateCheckpoint
import TitrateEnvironments
import TitratePolicy
import TitrateRL
import TitrateRandom

@testable import TitrateFederation

/// A monotone policy in federated training: every global model satisfies
/// the constraint, whatever the server step adds, and a checkpoint keeps it.
@Suite struct MonotonePolicyTrainingTests {
  /// Entry 2 of the matching bandit's one-hot context raises the action
  /// (context 2 pays for action 2, the highest), and entry 0 lowers it
  /// (context 0 pays for action 0), so the best policy is monotone.
  let monotoneInputs = [
    MonotoneInput(index: 2, direction: .raisesDose),
    MonotoneInput(index: 0, direction: .lowersDose),
  ]

  func configuration(rounds: Int) -> FederationConfiguration {
    var configuration = FederationConfiguration()
    configuration.environment = "matching"
    configuration.sites = (0..<3).map {
      SiteConfiguration(name: "site_\($0)", population: "p\($0)", patientsPerBatch: 16)
    }
    configuration.rounds = rounds
    configuration.seed = 5
    configuration.ppo.stepsPerRollout = 8
    configuration.ppo.minibatchSize = 32
    configuration.ppo.updateEpochs = 4
    configuration.ppo.hiddenSizes = [8, 8]
    configuration.ppo.iterations = rounds
    configuration.ppo.learningRate = 0.02
    configuration.ppo.monotoneInputs = monotoneInputs
    // FedAdam's normalised step and the central noise both move weights
    // off the constraint set; the projection after the step must undo it.
    configuration.serverOptimizer = .adam(
      learningRate: 0.05, beta1: 0.9, beta2: 0.99, epsilon: 1e-3)
    configuration.aggregation = .federatedAveraging(weighting: .uniform)
    configuration.observationNormalization = .perSite
    configuration.privacy = DifferentialPrivacyConfiguration(
      placement: .central, clipping: .fixed(clipNorm: 1), noiseMultiplier: 0.3)
    return configuration
  }

  let factory: EnvironmentFactory = { site, index in
    MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.1 * Double(index))
  }

  @Test func everyGlobalModelIsMonotone() throws {
    let trainer = try FederatedTrainer(
      configuration: configuration(rounds: 12), makeEnvironment: factory)
    let constraint = try #require(trainer.globalNetwork().monotoneConstraint)
    #expect(constraint.inputs.map(\.index) == [0, 2])
    for _ in 0..<12 {
      _ = try trainer.runRound()
      #expect(constraint.violation(in: trainer.globalNetwork().policy) == nil)
    }
    // The constraint does not stop learning: the greedy policy matches
    // every context after 12 rounds.
    var unused = Xoshiro256(seed: 0)
    let actions = trainer.globalNetwork().actions(
      observations: [1, 0, 0, 0, 1, 0, 0, 0, 1], count: 3, deterministic: true,
      generator: &unused)
    #expect(actions == [0, 1, 2])
  }

  @Test func unconstrainedNetworkLeavesTheSet() throws {
    // The same run without the projection: FedAdam and noise do break the
    // constraint, so the test above can fail.
    var settings = configuration(rounds: 3)
    settings.ppo.monotoneInputs = []
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    for _ in 0..<3 { _ = try trainer.runRound() }
    let constraint = try MonotoneConstraint(
      inputs: monotoneInputs, observationSize: 3, actionSpace: .discrete(count: 3))
    #expect(constraint.violation(in: trainer.globalNetwork().policy) != nil)
  }

  @Test func checkpointKeepsTheConstraintAndRejectsBrokenWeights() throws {
    let trainer = try FederatedTrainer(
      configuration: configuration(rounds: 2), makeEnvironment: factory)
    _ = try trainer.runRound()
    let environment = StoredEnvironment(name: "matching", definitionJSON: "{}")
    let contents = try trainer.checkpointContents(environment: environment, programVersion: "t")
    let policy = try TrainedPolicy(contents: contents)
    #expect(
      policy.network.monotoneConstraint?.inputs == monotoneInputs.sorted { $0.index < $1.index })
    #expect(policy.network == trainer.globalNetwork())

    // A negative hidden-to-hidden weight cannot come from constrained
    // training: the file is refused instead of quietly projected.
    var tampered = contents
    guard case .float32(let array) = tampered["policy/layer_1/weight"] else {
      Issue.record("policy/layer_1/weight is not a float32 array")
      return
    }
    var values = array.values
    values[5] = -0.25
    tampered.set("policy/layer_1/weight", shape: array.shape, values: values)
    #expect {
      try TrainedPolicy(contents: tampered)
    } throws: { error in
      "\(error)".contains("policy/layer_1/weight[0, 5] = -0.25 breaks the monotone constraint")
    }
  }

  @Test func badMonotoneInputIsAConfigurationError() {
    var settings = configuration(rounds: 1)
    settings.ppo.monotoneInputs = [MonotoneInput(index: 7, direction: .raisesDose)]
    #expect {
      _ = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    } throws: { error in
      "\(error)".contains("monotone input index 7 is outside the observation")
    }
  }
}
