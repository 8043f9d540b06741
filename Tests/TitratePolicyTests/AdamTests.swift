import Foundation
import Testing
import TitrateEnvironments
import TitrateRandom

@testable import TitratePolicy

@Suite struct AdamTests {
  @Test func firstStepMovesByLearningRateTimesSign() {
    // After one step mHat = g and vHat = g^2, so the move is lr * g / (|g| + eps).
    var adam = Adam(parameterCount: 2, learningRate: 0.1)
    var parameters: [Float] = [1, -2]
    adam.update(parameters: &parameters, gradient: [0.5, -1])
    #expect(abs(Double(parameters[0]) - (1 - 0.1 * 0.5 / 0.50001)) <= 1e-6)
    #expect(abs(Double(parameters[1]) - (-2 + 0.1 * 1 / 1.00001)) <= 1e-6)
    #expect(adam.state.step == 1)
    #expect(abs(adam.state.firstMoment[0] - 0.05) <= 1e-7)
    // 1 - 0.999 rounds to 0.00099998713 in Float.
    #expect(abs(adam.state.secondMoment[1] - 0.001) <= 1e-7)
  }

  @Test func secondStepMatchesHandComputation() {
    var adam = Adam(parameterCount: 1, learningRate: 0.1)
    var parameters: [Float] = [-2]
    adam.update(parameters: &parameters, gradient: [-1])
    adam.update(parameters: &parameters, gradient: [2])
    // m2 = 0.9 * (-0.1) + 0.1 * 2 = 0.11, v2 = 0.999 * 0.001 + 0.001 * 4 = 0.004999,
    // mHat = 0.11 / 0.19, vHat = 0.004999 / 0.001999.
    let firstMove = 0.1 * 1 / 1.00001
    let secondMove = 0.1 * (0.11 / 0.19) / ((0.004999 / 0.001999).squareRoot() + 1e-5)
    #expect(abs(Double(parameters[0]) - (-2 + firstMove - secondMove)) <= 1e-6)
  }

  @Test func matchesScalarFormulaBitwise() {
    // 37 parameters, so a vectorised loop leaves a scalar remainder.
    let count = 37
    var adam = Adam(parameterCount: count, learningRate: 3e-4)
    var parameters = (0..<count).map { Float($0) * 0.01 - 0.2 }
    var expected = parameters
    var firstMoment = [Float](repeating: 0, count: count)
    var secondMoment = [Float](repeating: 0, count: count)
    for step in 1...3 {
      let gradient = (0..<count).map { Float(($0 * 7 + step * 3) % 11) * 0.3 - 1.5 }
      adam.update(parameters: &parameters, gradient: gradient)
      let stepSize = Float(Double(Float(3e-4)) / (1 - pow(Double(Float(0.9)), Double(step))))
      let inverseRoot = Float(1 / (1 - pow(Double(Float(0.999)), Double(step))).squareRoot())
      for index in 0..<count {
        let g = gradient[index]
        firstMoment[index] = 0.9 * firstMoment[index] + (1 - 0.9) * g
        secondMoment[index] = 0.999 * secondMoment[index] + (1 - 0.999) * g * g
        let denominator = secondMoment[index].squareRoot() * inverseRoot + 1e-5
        expected[index] -= stepSize * firstMoment[index] / denominator
      }
    }
    #expect(parameters.map(\.bitPattern) == expected.map(\.bitPattern))
    #expect(adam.state.firstMoment == firstMoment)
    #expect(adam.state.secondMoment == secondMoment)
  }

  @Test func restoredStateContinuesIdentically() {
    var original = Adam(parameterCount: 3, learningRate: 3e-4)
    var parameters: [Float] = [0.1, 0.2, 0.3]
    original.update(parameters: &parameters, gradient: [1, -2, 0.5])
    var restored = Adam(parameterCount: 3, learningRate: 3e-4)
    restored.restore(original.state)
    var copy = parameters
    original.update(parameters: &parameters, gradient: [0.3, 0.1, -4])
    restored.update(parameters: &copy, gradient: [0.3, 0.1, -4])
    #expect(parameters == copy)
    #expect(original == restored)
  }
}

@Suite struct RunningNormalizerTests {
  /// Two-pass mean and population variance per feature.
  private func twoPass(_ rows: [[Float]]) -> (mean: [Double], variance: [Double]) {
    let features = rows[0].count
    var mean = [Double](repeating: 0, count: features)
    for row in rows { for j in 0..<features { mean[j] += Double(row[j]) / Double(rows.count) } }
    var variance = [Double](repeating: 0, count: features)
    for row in rows {
      for j in 0..<features { variance[j] += pow(Double(row[j]) - mean[j], 2) / Double(rows.count) }
    }
    return (mean, variance)
  }

  let batches: [[[Float]]] = [
    [[1, 100], [2, 110], [3, 90]],
    [[10, 105]],
    [[-4, 95], [0, 101], [7, 99], [2, 98]],
  ]

  @Test func sequentialUpdatesMatchTwoPass() {
    var normalizer = RunningNormalizer(featureCount: 2)
    for batch in batches {
      normalizer.update(observations: batch.flatMap { $0 }, rows: batch.count)
    }
    let expected = twoPass(batches.flatMap { $0 })
    #expect(normalizer.state.count == 8)
    for feature in 0..<2 {
      #expect(abs(normalizer.state.mean[feature] - expected.mean[feature]) <= 1e-9)
      #expect(abs(normalizer.state.variance[feature] - expected.variance[feature]) <= 1e-9)
    }
  }

  @Test func mergeOfTwoNormalizersMatchesTwoPass() {
    var first = RunningNormalizer(featureCount: 2)
    first.update(observations: batches[0].flatMap { $0 }, rows: 3)
    var second = RunningNormalizer(featureCount: 2)
    second.update(observations: batches[2].flatMap { $0 }, rows: 4)
    first.merge(second.state)
    let expected = twoPass(batches[0] + batches[2])
    for feature in 0..<2 {
      #expect(abs(first.state.mean[feature] - expected.mean[feature]) <= 1e-9)
      #expect(abs(first.state.variance[feature] - expected.variance[feature]) <= 1e-9)
    }
  }

  @Test func normalizeStandardizesAndClips() {
    var normalizer = RunningNormalizer(featureCount: 2)
    #expect(normalizer.normalize([3, -20]) == [3, -10])
    normalizer.update(observations: [0, 5, 2, 5], rows: 2)  // mean (1, 5), variance (1, 0)
    let result = normalizer.normalize([3, 5, 1e6, 4])
    #expect(abs(result[0] - 2) <= 1e-6)
    #expect(result[1] == 0)
    #expect(result[2] == 10)
    #expect(result[3] == -10)
  }
}

@Suite struct InPlaceAdamTests {
  /// The in-place step over the network's own arrays equals the vector
  /// round trip bit for bit, for a discrete and a continuous network.
  @Test(arguments: [ActionSpace.discrete(count: 5), .continuous(low: 0, high: 10)])
  func inPlaceStepEqualsVectorStep(space: ActionSpace) {
    var generator = Xoshiro256(seed: 4)
    var network = ActorCritic(
      observationSize: 3, actionSpace: space, hiddenSizes: [7, 6], generator: &generator)
    var copy = network
    var inPlace = Adam(parameterCount: network.parameterCount, learningRate: 0.01, epsilon: 1e-5)
    var viaVector = inPlace
    for _ in 0..<3 {
      let gradient = (0..<network.parameterCount).map { _ in Float(generator.nextStandardNormal()) }
      network.applyAdamStep(&inPlace, gradient: gradient)
      var parameters = copy.parameterVector()
      viaVector.update(parameters: &parameters, gradient: gradient)
      copy.setParameterVector(parameters)
    }
    #expect(network.parameterVector() == copy.parameterVector())
    #expect(inPlace.state == viaVector.state)
  }
}
