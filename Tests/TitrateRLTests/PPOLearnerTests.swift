import Testing
import TitrateEnvironments
import TitratePolicy

@testable import TitrateRL

@Suite struct PPOLearnerTests {
  private func smallConfiguration() -> PPOConfiguration {
    var configuration = PPOConfiguration()
    configuration.stepsPerRollout = 8
    configuration.updateEpochs = 4
    configuration.minibatchSize = 64
    configuration.learningRate = 3e-3
    configuration.iterations = 40
    configuration.hiddenSizes = [16]
    configuration.entropyCoefficient = 0.01
    return configuration
  }

  /// Hand-worked: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25
  /// = 5, divided by n - 1 = 3 gives 5/3.
  @Test func sampleStandardDeviationOfFourValues() {
    #expect(abs(sampleStandardDeviation([1, 2, 3, 4]) - (5.0 / 3).squareRoot()) < 1e-15)
    #expect(sampleStandardDeviation([7]) == 0)
    #expect(sampleStandardDeviation([]) == 0)
  }

  @Test func learnsContextualBandit() throws {
    let learner = try PPOLearner(
      configuration: smallConfiguration(), observationSize: 3,
      actionSpace: .discrete(count: 3), seed: 1)
    let environment = ContextualBandit(batchSize: 32)
    var first: PPOIterationMetrics?
    var last = PPOIterationMetrics()
    for _ in 0..<40 {
      last = learner.trainIteration(environment: environment)
      if first == nil { first = last }
    }
    // A uniform policy earns 1/3 per episode, the optimum 1.
    #expect(abs(first!.meanEpisodeReturn! - 1.0 / 3) <= 0.15)
    #expect(last.meanEpisodeReturn! >= 0.9)
    #expect(last.environmentSteps == 256)
    #expect(last.episodesFinished == 256)
    #expect(last.outcomes.episodes == 256)
    #expect(abs(last.outcomes.mean("correct")! - last.meanEpisodeReturn!) <= 1e-9)

    // The greedy policy picks (context + 1) mod 3 in every context.
    var generator = learner.generator
    let greedy = learner.actions(
      observations: [1, 0, 0, 0, 1, 0, 0, 0, 1], count: 3, deterministic: true,
      generator: &generator)
    #expect(greedy == [1, 2, 0])
  }

  @Test func learnsContinuousBandit() throws {
    var configuration = smallConfiguration()
    configuration.entropyCoefficient = 0
    let learner = try PPOLearner(
      configuration: configuration, observationSize: 1,
      actionSpace: .continuous(low: 0, high: 10), seed: 2)
    let environment = ContinuousBandit(batchSize: 32)
    var first: PPOIterationMetrics?
    var last = PPOIterationMetrics()
    for _ in 0..<40 {
      last = learner.trainIteration(environment: environment)
      if first == nil { first = last }
    }
    // Untrained returns sit near -3.8 (actions clipped to [0, 10]).
    #expect(first!.meanEpisodeReturn! <= -3)
    #expect(last.meanEpisodeReturn! >= -1.5)
    // The mean dose tracks 5 + 3x within 1 unit.
    var generator = learner.generator
    let doses = learner.actions(
      observations: [-0.5, 0, 0.5], count: 3, deterministic: true, generator: &generator)
    for (dose, best) in zip(doses, [Float(3.5), 5, 6.5]) {
      #expect(abs(dose - best) <= 1, "dose \(dose) for best \(best)")
    }
  }

  @Test func sameSeedGivesIdenticalParameters() throws {
    func run() throws -> ([Float], PPOIterationMetrics) {
      let learner = try PPOLearner(
        configuration: smallConfiguration(), observationSize: 3,
        actionSpace: .discrete(count: 3), seed: 9)
      let environment = ContextualBandit(batchSize: 8)
      _ = learner.trainIteration(environment: environment)
      let metrics = learner.trainIteration(environment: environment)
      return (learner.parameterVector(), metrics)
    }
    let (first, firstMetrics) = try run()
    let (second, secondMetrics) = try run()
    #expect(first == second)
    #expect(firstMetrics == secondMetrics)
    let other = try PPOLearner(
      configuration: smallConfiguration(), observationSize: 3,
      actionSpace: .discrete(count: 3), seed: 10)
    #expect(other.parameterVector() != first)
  }

  /// Trains two iterations, snapshots learner and environment, and checks
  /// that a second learner restored from the snapshot matches the third
  /// iteration of the first.
  private func checkRestore<Environment: VectorizedEnvironment>(
    environment: Environment, copy: (Environment) -> Environment
  ) throws {
    let original = try PPOLearner(
      configuration: smallConfiguration(), observationSize: environment.observationSize,
      actionSpace: environment.actionSpace, seed: 3)
    let restored = try PPOLearner(
      configuration: smallConfiguration(), observationSize: environment.observationSize,
      actionSpace: environment.actionSpace, seed: 4)
    _ = original.trainIteration(environment: environment)
    _ = original.trainIteration(environment: environment)
    let snapshot = original.state()
    let environmentCopy = copy(environment)
    try restored.restore(snapshot)
    #expect(restored.state() == snapshot)
    let originalMetrics = original.trainIteration(environment: environment)
    let restoredMetrics = restored.trainIteration(environment: environmentCopy)
    #expect(originalMetrics == restoredMetrics)
    #expect(original.state() == restored.state())
  }

  @Test func restoredDiscreteLearnerContinuesIdentically() throws {
    try checkRestore(environment: ContextualBandit(batchSize: 8)) { $0.copy() }
  }

  @Test func restoredContinuousLearnerContinuesIdentically() throws {
    try checkRestore(environment: ContinuousBandit(batchSize: 8)) { $0.copy() }
  }

  @Test func restoreRejectsMismatchedState() throws {
    let learner = try PPOLearner(
      configuration: smallConfiguration(), observationSize: 3, actionSpace: .discrete(count: 3))
    var state = learner.state()
    state.parameters.removeLast()
    #expect(throws: PPOLearnerStateError.self) { try learner.restore(state) }
    state = learner.state()
    state.generator = [0, 0, 0, 0]
    #expect(throws: PPOLearnerStateError.self) { try learner.restore(state) }
  }

  @Test func invalidConfigurationIsRejected() {
    var configuration = smallConfiguration()
    configuration.clipRange = 0
    #expect(throws: PPOConfigurationError.self) {
      try PPOLearner(
        configuration: configuration, observationSize: 3, actionSpace: .discrete(count: 3))
    }
  }

  @Test func learningRateAnnealsLinearly() throws {
    var configuration = smallConfiguration()
    configuration.iterations = 4
    configuration.stepsPerRollout = 1
    configuration.updateEpochs = 1
    let learner = try PPOLearner(
      configuration: configuration, observationSize: 3, actionSpace: .discrete(count: 3))
    let environment = ContextualBandit(batchSize: 4)
    let rates = (0..<5).map { _ in learner.trainIteration(environment: environment).learningRate }
    let expected = [1, 0.75, 0.5, 0.25, 0].map { $0 * Double(configuration.learningRate) }
    for (rate, target) in zip(rates, expected) {
      #expect(abs(rate - target) <= 1e-9)
    }
  }
}
