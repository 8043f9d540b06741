import Testing
import TitrateEnvironments
import TitrateLinearAlgebra
import TitrateRandom

@testable import TitratePolicy

@Suite struct ActorCriticTests {
  private func network(_ actionSpace: ActionSpace, hiddenSizes: [Int] = [5, 4]) -> ActorCritic {
    var generator = Xoshiro256(seed: 21)
    var network = ActorCritic(
      observationSize: 3, actionSpace: actionSpace, hiddenSizes: hiddenSizes, generator: &generator)
    // Larger than the 0.01 initial policy gain so the head gradients matter.
    var parameters = network.parameterVector()
    for index in parameters.indices {
      parameters[index] += 0.3 * Float(generator.nextStandardNormal())
    }
    network.setParameterVector(parameters)
    return network
  }

  @Test func namedTensorsFollowFlatOrderAndShapes() {
    let continuous = network(.continuous(low: 0, high: 10))
    let tensors = continuous.namedTensors()
    #expect(
      tensors.map(\.name) == [
        "policy/layer_0/weight", "policy/layer_0/bias", "policy/layer_1/weight",
        "policy/layer_1/bias", "policy/layer_2/weight", "policy/layer_2/bias", "policy/log_std",
        "value/layer_0/weight", "value/layer_0/bias", "value/layer_1/weight", "value/layer_1/bias",
        "value/layer_2/weight", "value/layer_2/bias",
      ])
    #expect(tensors[0].shape == [5, 3])
    #expect(tensors[4].shape == [1, 4])
    #expect(tensors[6].shape == [1])
    #expect(tensors.flatMap(\.values) == continuous.parameterVector())
    #expect(continuous.parameterCount == continuous.parameterVector().count)
    let discrete = network(.discrete(count: 4))
    #expect(!discrete.namedTensors().contains { $0.name == "policy/log_std" })
    #expect(discrete.namedTensors()[4].shape == [4, 4])
  }

  @Test func rebuildsFromNamedTensors() throws {
    for actionSpace in [ActionSpace.discrete(count: 3), .continuous(low: -1, high: 2)] {
      let original = network(actionSpace)
      let rebuilt = try ActorCritic(
        observationSize: 3, actionSpace: actionSpace, hiddenSizes: [5, 4],
        tensors: original.namedTensors().reversed())
      #expect(rebuilt == original)
    }
  }

  @Test func rejectsMismatchedTensors() {
    let tensors = network(.discrete(count: 3)).namedTensors()
    #expect(throws: ActorCriticError.shapeMismatch(name: "policy/layer_0/weight", expected: [6, 3], found: [5, 3])) {
      try ActorCritic(observationSize: 3, actionSpace: .discrete(count: 3), hiddenSizes: [6, 4], tensors: tensors)
    }
    // A one-level discrete policy has the continuous shapes but no log_std.
    let oneLevel = network(.discrete(count: 1)).namedTensors()
    #expect(throws: ActorCriticError.missingTensor(name: "policy/log_std")) {
      try ActorCritic(
        observationSize: 3, actionSpace: .continuous(low: 0, high: 1), hiddenSizes: [5, 4],
        tensors: oneLevel)
    }
    let extra = tensors + [NamedTensor(name: "policy/extra", shape: [1], values: [0])]
    #expect(throws: ActorCriticError.unexpectedTensor(name: "policy/extra")) {
      try ActorCritic(observationSize: 3, actionSpace: .discrete(count: 3), hiddenSizes: [5, 4], tensors: extra)
    }
    #expect(throws: ActorCriticError.self) {
      try ActorCritic(observationSize: 0, actionSpace: .discrete(count: 3), hiddenSizes: [5, 4], tensors: tensors)
    }
  }

  @Test(arguments: [ActionSpace.discrete(count: 3), .continuous(low: 0, high: 4)])
  func trainingGradientsMatchFiniteDifferences(actionSpace: ActionSpace) {
    let original = network(actionSpace)
    var generator = Xoshiro256(seed: 4)
    let observations = gaussianMatrix(rows: 6, columns: 3, generator: &generator)
    let sample = original.sample(observations: observations, generator: &generator)
    let logProbabilityWeights: [Float] = (0..<6).map { _ in Float(generator.nextStandardNormal()) }
    let entropyWeights: [Float] = (0..<6).map { _ in Float(generator.nextStandardNormal()) }
    let valueWeights: [Float] = (0..<6).map { _ in Float(generator.nextStandardNormal()) }

    // loss = sum_i a_i log pi_i + b_i H_i + c_i V_i
    func loss(_ network: ActorCritic) -> Double {
      var trace = PolicyTrace()
      let (logProbabilities, entropies) = network.evaluatePolicy(
        observations: observations, policyActions: sample.policyActions, trace: &trace)
      var valueTrace = MLPTrace()
      let values = network.evaluateValues(observations: observations, trace: &valueTrace)
      var sum = 0.0
      for row in 0..<6 {
        sum += Double(logProbabilityWeights[row]) * Double(logProbabilities[row])
        sum += Double(entropyWeights[row]) * Double(entropies[row])
        sum += Double(valueWeights[row]) * Double(values[row])
      }
      return sum
    }

    var trace = PolicyTrace()
    _ = original.evaluatePolicy(observations: observations, policyActions: sample.policyActions, trace: &trace)
    var valueTrace = MLPTrace()
    _ = original.evaluateValues(observations: observations, trace: &valueTrace)
    var gradient = [Float](repeating: .nan, count: original.parameterCount)
    original.backwardPolicy(
      trace: &trace, logProbabilityGradients: logProbabilityWeights, entropyGradients: entropyWeights,
      gradient: &gradient)
    original.backwardValue(trace: &valueTrace, valueGradients: valueWeights, gradient: &gradient)
    #expect(!gradient.contains { $0.isNaN }, "some parameter received no gradient")

    let numeric = numericGradient(at: original.parameterVector(), step: 1e-3) { point in
      var perturbed = original
      perturbed.setParameterVector(point)
      return loss(perturbed)
    }
    #expect(worstGradientMismatch(numeric: numeric, analytic: gradient) <= 0)
  }

  @Test func sampleLogProbabilitiesMatchEvaluation() {
    for actionSpace in [ActionSpace.discrete(count: 3), .continuous(low: 0, high: 4)] {
      let network = network(actionSpace)
      var generator = Xoshiro256(seed: 8)
      let observations = gaussianMatrix(rows: 10, columns: 3, generator: &generator)
      let sample = network.sample(observations: observations, generator: &generator)
      var trace = PolicyTrace()
      let evaluated = network.evaluatePolicy(
        observations: observations, policyActions: sample.policyActions, trace: &trace)
      #expect(evaluated.logProbabilities == sample.logProbabilities)
    }
  }

  @Test func deterministicContinuousActionIsRescaledMean() {
    let network = network(.continuous(low: 2, high: 6))
    var generator = Xoshiro256(seed: 1)
    let observations: [Float] = [0.1, -0.2, 0.3, 1, 0, -1]
    let means = network.policyOutputs(observations: observations, count: 2)
    let untouched = generator
    let actions = network.actions(observations: observations, count: 2, deterministic: true, generator: &generator)
    #expect(generator == untouched)
    for row in 0..<2 {
      // u = -1 maps to low = 2 and u = 1 to high = 6.
      #expect(abs(actions[row] - (2 + (means[row, 0] + 1) * 2)) <= 1e-6)
    }
  }

  @Test func deterministicDiscreteActionIsArgmax() {
    let network = network(.discrete(count: 4))
    var generator = Xoshiro256(seed: 1)
    let observations: [Float] = [0.1, -0.2, 0.3, 1, 0, -1]
    let logits = network.policyOutputs(observations: observations, count: 2)
    let actions = network.actions(observations: observations, count: 2, deterministic: true, generator: &generator)
    #expect(actions == CategoricalHead.mostLikely(logits: logits))
  }
}
