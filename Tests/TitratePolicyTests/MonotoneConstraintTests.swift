import Testing
import TitrateEnvironments
import TitrateRandom

@testable import TitratePolicy

/// Observation entries 1 (raises the dose) and 3 (lowers it) of a 5-entry
/// row; entries 0, 2 and 4 stay free.
private let inputs = [
  MonotoneInput(index: 1, direction: .raisesDose), MonotoneInput(index: 3, direction: .lowersDose),
]

/// Returns a network with weights far from the constraint set: orthogonal
/// initialisation, then every parameter scaled up so that hidden units
/// saturate and logits differ by several units.
private func wildNetwork(
  actionSpace: ActionSpace, hiddenSizes: [Int], constraint: MonotoneConstraint?, seed: UInt64
) -> ActorCritic {
  var generator = Xoshiro256(seed: seed)
  var network = ActorCritic(
    observationSize: 5, actionSpace: actionSpace, hiddenSizes: hiddenSizes,
    monotoneConstraint: nil, generator: &generator)
  var parameters = network.parameterVector()
  for index in parameters.indices {
    parameters[index] = parameters[index] * 40 + Float(generator.nextUniform() - 0.5)
  }
  network.setParameterVector(parameters)
  guard let constraint else { return network }
  var constrained = ActorCritic(
    observationSize: 5, actionSpace: actionSpace, hiddenSizes: hiddenSizes,
    monotoneConstraint: constraint, generator: &generator)
  constrained.setParameterVector(parameters)
  constrained.projectOntoMonotoneConstraint()
  return constrained
}

/// Counts (observation, perturbation) pairs in which raising a monotone
/// input moved the greedy action against its direction.
private func monotonicityBreaks(
  _ network: ActorCritic, samples: Int, seed: UInt64, tolerance: Float = 0
) -> Int {
  var generator = Xoshiro256(seed: seed)
  var unused = Xoshiro256(seed: 0)
  var breaks = 0
  for _ in 0..<samples {
    let row = (0..<5).map { _ in Float(generator.nextUniform() * 6 - 3) }
    for input in inputs {
      var raised = row
      raised[input.index] += Float(generator.nextUniform() * 2)
      let actions = network.actions(
        observations: row + raised, count: 2, deterministic: true, generator: &unused)
      let moved = actions[1] - actions[0]
      if input.direction == .raisesDose ? moved < -tolerance : moved > tolerance {
        breaks += 1
      }
    }
  }
  return breaks
}

@Suite("Monotone policy constraint")
struct MonotoneConstraintTests {
  @Test("pool-adjacent-violators gives the nearest non-decreasing sequence")
  func poolAdjacentViolators() {
    // Hand-worked: each violating run is replaced by its mean.
    let cases: [([Double], [Double])] = [
      ([3, 1, 2], [2, 2, 2]),
      ([1, 3, 2, 4], [1, 2.5, 2.5, 4]),
      ([5, 4, 3, 2, 1], [3, 3, 3, 3, 3]),
      ([0, 1, 1, 2], [0, 1, 1, 2]),
      ([2, 0, 5, 1, 1], [1, 1, 7.0 / 3, 7.0 / 3, 7.0 / 3]),
      ([7], [7]),
    ]
    for (input, expected) in cases {
      var values = input
      MonotoneConstraint.makeNonDecreasing(&values)
      for (value, want) in zip(values, expected) {
        #expect(abs(value - want) < 1e-12, "input \(input) gave \(values), expected \(expected)")
      }
    }
  }

  @Test(
    "the greedy level never moves against a monotone input",
    arguments: [[16, 16], [8], [12, 8, 6]])
  func greedyLevelIsMonotone(hiddenSizes: [Int]) throws {
    let space = ActionSpace.discrete(count: 13)
    let constraint = try MonotoneConstraint(inputs: inputs, observationSize: 5, actionSpace: space)
    let free = wildNetwork(actionSpace: space, hiddenSizes: hiddenSizes, constraint: nil, seed: 3)
    let constrained = wildNetwork(
      actionSpace: space, hiddenSizes: hiddenSizes, constraint: constraint, seed: 3)
    #expect(constraint.violation(in: constrained.policy) == nil)
    #expect(constraint.violation(in: free.policy) != nil)
    // The unconstrained network breaks the property, so the check can fail.
    #expect(monotonicityBreaks(free, samples: 2000, seed: 9) > 20)
    #expect(monotonicityBreaks(constrained, samples: 2000, seed: 9) == 0)
  }

  @Test("without hidden layers only the monotone inputs' columns are constrained")
  func linearPolicy() throws {
    let space = ActionSpace.discrete(count: 7)
    let constraint = try MonotoneConstraint(inputs: inputs, observationSize: 5, actionSpace: space)
    let network = wildNetwork(actionSpace: space, hiddenSizes: [], constraint: constraint, seed: 4)
    #expect(monotonicityBreaks(network, samples: 2000, seed: 5) == 0)
    // Free columns keep their values: column 0 of the projected weights
    // equals the unconstrained network's.
    let free = wildNetwork(actionSpace: space, hiddenSizes: [], constraint: nil, seed: 4)
    let columns = 5
    for row in 0..<7 {
      #expect(
        network.policy.layers[0].weight.values[row * columns]
          == free.policy.layers[0].weight.values[row * columns])
    }
  }

  @Test("the Gaussian mean is monotone for continuous doses")
  func continuousMean() throws {
    let space = ActionSpace.continuous(low: 0, high: 3000)
    let constraint = try MonotoneConstraint(inputs: inputs, observationSize: 5, actionSpace: space)
    let free = wildNetwork(actionSpace: space, hiddenSizes: [16, 16], constraint: nil, seed: 6)
    let constrained = wildNetwork(
      actionSpace: space, hiddenSizes: [16, 16], constraint: constraint, seed: 6)
    #expect(monotonicityBreaks(free, samples: 1000, seed: 7) > 20)
    // Doses near 2000 mg carry Float rounding of about 1e-4 mg, so moves
    // below 1e-3 mg count as ties.
    #expect(monotonicityBreaks(constrained, samples: 1000, seed: 7, tolerance: 1e-3) == 0)
  }

  @Test("projection is idempotent and leaves a feasible network unchanged")
  func idempotent() throws {
    let space = ActionSpace.discrete(count: 13)
    let constraint = try MonotoneConstraint(inputs: inputs, observationSize: 5, actionSpace: space)
    let network = wildNetwork(
      actionSpace: space, hiddenSizes: [16, 16], constraint: constraint, seed: 8)
    var again = network.policy
    constraint.project(&again)
    #expect(again == network.policy)
  }

  @Test("an Adam step stays inside the constraint set")
  func adamStepProjects() throws {
    let space = ActionSpace.discrete(count: 13)
    let constraint = try MonotoneConstraint(inputs: inputs, observationSize: 5, actionSpace: space)
    var network = wildNetwork(
      actionSpace: space, hiddenSizes: [16, 16], constraint: constraint, seed: 10)
    var optimizer = Adam(parameterCount: network.parameterCount, learningRate: 0.5, epsilon: 1e-5)
    var generator = Xoshiro256(seed: 11)
    for _ in 0..<5 {
      let gradient = (0..<network.parameterCount).map { _ in Float(generator.nextUniform() - 0.5) }
      network.applyAdamStep(&optimizer, gradient: gradient)
      #expect(constraint.violation(in: network.policy) == nil)
    }
  }

  @Test("bad monotone inputs are refused with the index and the fix")
  func badInputs() {
    let space = ActionSpace.discrete(count: 13)
    #expect(throws: MonotoneConstraintError.indexOutOfRange(index: 5, observationSize: 5)) {
      try MonotoneConstraint(
        inputs: [MonotoneInput(index: 5, direction: .raisesDose)], observationSize: 5,
        actionSpace: space)
    }
    #expect(throws: MonotoneConstraintError.duplicateIndex(2)) {
      try MonotoneConstraint(
        inputs: [
          MonotoneInput(index: 2, direction: .raisesDose),
          MonotoneInput(index: 2, direction: .lowersDose),
        ], observationSize: 5, actionSpace: space)
    }
    #expect(throws: MonotoneConstraintError.tooFewLevels(1)) {
      try MonotoneConstraint(inputs: inputs, observationSize: 5, actionSpace: .discrete(count: 1))
    }
    #expect(
      MonotoneConstraintError.indexOutOfRange(index: 5, observationSize: 5).description
        .contains("use an index below 5"))
  }

  @Test("stored weights that break the constraint are rejected, not repaired")
  func brokenStoredWeights() throws {
    let space = ActionSpace.discrete(count: 13)
    let constraint = try MonotoneConstraint(inputs: inputs, observationSize: 5, actionSpace: space)
    let free = wildNetwork(actionSpace: space, hiddenSizes: [16, 16], constraint: nil, seed: 12)
    let error = #expect(throws: ActorCriticError.self) {
      try ActorCritic(
        observationSize: 5, actionSpace: space, hiddenSizes: [16, 16],
        monotoneConstraint: constraint, tensors: free.namedTensors())
    }
    guard case .monotoneConstraintBroken(let problem)? = error else {
      Issue.record("expected monotoneConstraintBroken, got \(String(describing: error))")
      return
    }
    #expect(problem.contains("policy/layer_0/weight"))
    let feasible = wildNetwork(
      actionSpace: space, hiddenSizes: [16, 16], constraint: constraint, seed: 12)
    let loaded = try ActorCritic(
      observationSize: 5, actionSpace: space, hiddenSizes: [16, 16],
      monotoneConstraint: constraint, tensors: feasible.namedTensors())
    #expect(loaded == feasible)
  }
}
