import Testing

@testable import TitrateFederation

@Suite struct AggregationTests {
  func update(_ site: String, _ delta: [Double], samples: Int, round: Int = 1) -> ModelUpdate {
    ModelUpdate(siteName: site, round: round, delta: delta, sampleCount: samples)
  }

  @Test func averagesBySampleCount() throws {
    // (1 * [1, 2] + 3 * [5, -2]) / 4 = [4, -1]
    let average = try federatedAverage([
      update("a", [1, 2], samples: 1), update("b", [5, -2], samples: 3),
    ])
    #expect(average == [4, -1])
  }

  @Test func factorsScaleTheSampleCountWeights() throws {
    // n = [2, 1] and f = [1, 2] give weights 2 and 2, so the mean is
    // ([1, 3] + [5, -1]) / 2.
    let updates = [update("a", [1, 3], samples: 2), update("b", [5, -1], samples: 1)]
    #expect(try federatedAverage(updates, factors: [1, 2]) == [3, 1])
    // Plain FedAvg of the same updates: (2 [1, 3] + [5, -1]) / 3.
    let plain = try federatedAverage(updates)
    #expect(abs(plain[0] - 7.0 / 3) < 1e-15)
    #expect(abs(plain[1] - 5.0 / 3) < 1e-15)
    // Factors of 1 round exactly as no factors.
    let odd = [update("a", [0.1, -0.7], samples: 3), update("b", [1e-3, 2.9], samples: 7)]
    #expect(try federatedAverage(odd, factors: [1, 1]) == federatedAverage(odd))
  }

  @Test func averageOfOneUpdateIsThatUpdate() throws {
    let delta: [Double] = [0.125, -3.5, 1e-7]
    #expect(try federatedAverage([update("a", delta, samples: 17)]) == delta)
  }

  @Test func averageRejectsEmptyInput() {
    #expect(throws: AggregationError.noUpdates) { try federatedAverage([]) }
  }

  @Test func averageRejectsZeroTotalWeight() {
    #expect(throws: AggregationError.zeroTotalWeight) {
      try federatedAverage([self.update("a", [1], samples: 0)])
    }
  }

  @Test func zeroNormUpdatesAverageToZero() throws {
    let average = try federatedAverage([
      update("a", [0, 0, 0], samples: 2), update("b", [0, 0, 0], samples: 5),
    ])
    #expect(average == [0, 0, 0])
  }

  @Test func validationRejectsWrongShape() {
    let rejection = validate(
      update("a", [1, 2, 3], samples: 4), expectedParameterCount: 2, round: 1,
      maximumSampleCount: 100)
    #expect(rejection == .wrongParameterCount(received: 3, expected: 2))
  }

  @Test func validationRejectsNonFiniteValues() {
    for bad in [Double.nan, .infinity, -.infinity] {
      let rejection = validate(
        update("a", [0, bad], samples: 4), expectedParameterCount: 2, round: 1,
        maximumSampleCount: 100)
      #expect(rejection != nil)
      if case .nonFiniteValue(let index, _) = rejection {
        #expect(index == 1)
      } else {
        Issue.record("expected nonFiniteValue, got \(String(describing: rejection))")
      }
    }
  }

  @Test func validationRejectsBadSampleCounts() {
    let zero = validate(
      update("a", [0], samples: 0), expectedParameterCount: 1, round: 1, maximumSampleCount: 10)
    #expect(zero == .nonPositiveSampleCount(0))
    let negative = validate(
      update("a", [0], samples: -3), expectedParameterCount: 1, round: 1,
      maximumSampleCount: 10)
    #expect(negative == .nonPositiveSampleCount(-3))
    let huge = validate(
      update("a", [0], samples: 11), expectedParameterCount: 1, round: 1, maximumSampleCount: 10)
    #expect(huge == .implausibleSampleCount(received: 11, maximum: 10))
  }

  @Test func validationRejectsStaleRound() {
    let rejection = validate(
      update("a", [0], samples: 1, round: 2), expectedParameterCount: 1, round: 3,
      maximumSampleCount: 10)
    #expect(rejection == .staleRound(received: 2, expected: 3))
  }

  @Test func validationAcceptsGoodUpdate() {
    #expect(
      validate(
        update("a", [0.5, -1], samples: 10), expectedParameterCount: 2, round: 1,
        maximumSampleCount: 10) == nil)
  }

  @Test func deltaRoundTripIsExact() {
    // Double(local) - Double(global) is exact for values within 2^29 of each
    // other, so global + delta recovers local bit for bit, sign changes and
    // a parameter crossing zero included.
    let global: [Float] = [1e-8, 3.0, -2.5e3, 0.1, 7, 0]
    let local: [Float] = [0.3, 3.0000002, 1e-5, -0.1, 7e5, -1e-3]
    let update = ModelUpdate(
      siteName: "a", round: 1, localParameters: local, globalParameters: global,
      sampleCount: 1)
    var parameters = global
    var state = ServerOptimizerState(parameterCount: global.count)
    applyServerStep(
      .sgd(learningRate: 1), state: &state, averageDelta: update.delta,
      parameters: &parameters)
    #expect(parameters == local)
  }

  @Test func sgdScalesTheDelta() {
    var parameters: [Float] = [1, 2]
    var state = ServerOptimizerState(parameterCount: 2)
    applyServerStep(
      .sgd(learningRate: 0.5), state: &state, averageDelta: [2, -4], parameters: &parameters)
    #expect(parameters == [2, 0])
    #expect(state.step == 1)
  }

  @Test func adamFirstStepMovesByLearningRate() {
    // With bias correction the first Adam step is lr * g / (|g| + eps),
    // i.e. lr * sign(g) up to eps.
    var parameters: [Float] = [0, 0]
    var state = ServerOptimizerState(parameterCount: 2)
    let configuration = ServerOptimizerConfiguration.adam(
      learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-9)
    applyServerStep(configuration, state: &state, averageDelta: [3, -0.5], parameters: &parameters)
    #expect(abs(parameters[0] - 0.1) < 1e-6)
    #expect(abs(parameters[1] + 0.1) < 1e-6)
    // Second step with gradient [3, -0.5] again: m = 0.19 * 3 / 0.19, so the
    // bias-corrected estimates still give lr * sign(g).
    applyServerStep(configuration, state: &state, averageDelta: [3, -0.5], parameters: &parameters)
    #expect(abs(parameters[0] - 0.2) < 1e-6)
    #expect(abs(parameters[1] + 0.2) < 1e-6)
  }

  @Test func serverConfigurationProblemsNameTheValue() {
    #expect(ServerOptimizerConfiguration.sgd(learningRate: 0).problems().count == 1)
    let problems = ServerOptimizerConfiguration.adam(
      learningRate: -1, beta1: 1, beta2: 0.5, epsilon: 0
    ).problems()
    // Learning rate, beta1 and epsilon are invalid; beta2 is fine.
    #expect(problems.count == 3)
    #expect(problems.first?.contains("-1.0") == true)
  }
}
