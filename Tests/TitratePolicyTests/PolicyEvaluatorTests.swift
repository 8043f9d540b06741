import Testing
import TitrateEnvironments
import TitrateLinearAlgebra
import TitrateRandom

@testable import TitratePolicy

/// The reference is `RunningNormalizer.normalize` followed by
/// `ActorCritic.actions(deterministic: true)` or `policyOutputs`, on the
/// whole batch at once. OpenBLAS 0.3.21 rounds a row of a product
/// differently depending on the product's row count (1-3 ulps here), so
/// outputs of a batch split into tiles are compared with a tolerance and
/// only a batch that fits one tile is compared bit for bit.
@Suite struct PolicyEvaluatorTests {
  /// A network with random weights of standard deviation `weightScale`, so
  /// that logits differ between levels by more than rounding.
  private func randomNetwork(
    observationSize: Int, actionSpace: ActionSpace, hiddenSizes: [Int] = [64, 64],
    weightScale: Float = 0.4, seed: UInt64
  ) -> ActorCritic {
    var generator = Xoshiro256(seed: seed)
    var network = ActorCritic(
      observationSize: observationSize, actionSpace: actionSpace, hiddenSizes: hiddenSizes,
      generator: &generator)
    var parameters = network.parameterVector()
    for index in parameters.indices {
      parameters[index] = weightScale * Float(generator.nextStandardNormal())
    }
    network.setParameterVector(parameters)
    return network
  }

  /// Observations with per-feature offsets and spreads.
  private func cleanObservations(rows: Int, features: Int, seed: UInt64) -> [Float] {
    var generator = Xoshiro256(seed: seed)
    var values = [Float](repeating: 0, count: rows * features)
    for index in values.indices {
      let feature = index % features
      let spread = Float(1 + feature % 5)
      values[index] = Float(feature) + spread * Float(generator.nextStandardNormal())
    }
    return values
  }

  /// Clean observations with every 17th value moved 500 away, so that a
  /// normaliser fitted on clean ones clips them.
  private func randomObservations(rows: Int, features: Int, seed: UInt64) -> [Float] {
    var values = cleanObservations(rows: rows, features: features, seed: seed)
    for index in stride(from: 0, to: values.count, by: 17) {
      values[index] += index % 2 == 0 ? 500 : -500
    }
    return values
  }

  private func fittedNormalizer(_ observations: [Float], features: Int) -> RunningNormalizer {
    var normalizer = RunningNormalizer(featureCount: features)
    normalizer.update(observations: observations, rows: observations.count / features)
    return normalizer
  }

  private func bitPatterns(_ values: [Float]) -> [UInt32] {
    values.map(\.bitPattern)
  }

  /// Largest difference between tiled and whole-batch outputs, relative to
  /// max(1, |reference|). Measured at 2.8e-6 with one-row tiles.
  private let outputTolerance: Float = 1e-5

  private func worstDifference(_ values: [Float], _ reference: [Float]) -> Float {
    zip(values, reference).reduce(0) { worst, pair in
      max(worst, abs(pair.0 - pair.1) / max(1, abs(pair.1)))
    }
  }

  @Test(arguments: [1, 7, 128, 512])
  func discreteMatchesReference(tileRows: Int) {
    let features = 21
    let rows = 20_011
    let network = randomNetwork(
      observationSize: features, actionSpace: .discrete(count: 13), seed: UInt64(tileRows))
    let observations = randomObservations(rows: rows, features: features, seed: 5)
    let normalizer = fittedNormalizer(
      cleanObservations(rows: 1_000, features: features, seed: 6), features: features)
    let input = normalizer.normalize(observations)
    #expect(input.contains(RunningNormalizer.clipRange), "no value was clipped high")
    #expect(input.contains(-RunningNormalizer.clipRange), "no value was clipped low")

    var generator = Xoshiro256(seed: 0)
    let expectedActions = network.actions(
      observations: input, count: rows, deterministic: true, generator: &generator)
    let expectedLogits = network.policyOutputs(observations: input, count: rows)

    var evaluator = PolicyEvaluator(network: network, normalizer: normalizer, tileRows: tileRows)
    let actions = evaluator.actions(observations: observations, count: rows)
    var logits = Matrix(rows: 0, columns: 0)
    evaluator.policyOutputs(observations: observations, count: rows, into: &logits)

    #expect(actions == expectedActions)
    #expect(logits.rows == rows)
    #expect(logits.columns == 13)
    #expect(worstDifference(logits.values, expectedLogits.values) <= outputTolerance)
    // Enough distinct levels that argmax is exercised, not a constant.
    #expect(Set(actions).count >= 5)
  }

  @Test func continuousMatchesReference() {
    let features = 6
    let rows = 1_000
    let network = randomNetwork(
      observationSize: features, actionSpace: .continuous(low: 2, high: 30),
      hiddenSizes: [32, 16, 8], seed: 3)
    let observations = randomObservations(rows: rows, features: features, seed: 9)
    let normalizer = fittedNormalizer(
      cleanObservations(rows: 200, features: features, seed: 10), features: features)
    var generator = Xoshiro256(seed: 0)
    let expected = network.actions(
      observations: normalizer.normalize(observations), count: rows, deterministic: true,
      generator: &generator)

    var evaluator = PolicyEvaluator(network: network, normalizer: normalizer, tileRows: 64)
    let actions = evaluator.actions(observations: observations, count: rows)

    // Actions lie in [2, 30], so the tolerance is scaled by the width.
    #expect(worstDifference(actions, expected) <= 28 * outputTolerance)
  }

  @Test func singleTileMatchesReferenceBitwise() {
    let features = 21
    let rows = 300
    let network = randomNetwork(
      observationSize: features, actionSpace: .discrete(count: 13), seed: 2)
    let observations = randomObservations(rows: rows, features: features, seed: 4)
    let normalizer = fittedNormalizer(
      cleanObservations(rows: 500, features: features, seed: 8), features: features)
    let expected = network.policyOutputs(
      observations: normalizer.normalize(observations), count: rows)

    var evaluator = PolicyEvaluator(network: network, normalizer: normalizer, tileRows: rows)
    var logits = Matrix(rows: 0, columns: 0)
    evaluator.policyOutputs(observations: observations, count: rows, into: &logits)

    #expect(bitPatterns(logits.values) == bitPatterns(expected.values))
  }

  @Test func withoutNormalizerUsesRawObservations() {
    let features = 4
    let rows = 300
    let network = randomNetwork(
      observationSize: features, actionSpace: .discrete(count: 5), hiddenSizes: [8], seed: 11)
    let observations = randomObservations(rows: rows, features: features, seed: 2)
    var generator = Xoshiro256(seed: 0)
    let expected = network.actions(
      observations: observations, count: rows, deterministic: true, generator: &generator)

    var evaluator = PolicyEvaluator(network: network, normalizer: nil, tileRows: 50)

    #expect(evaluator.actions(observations: observations, count: rows) == expected)
  }

  @Test func tiedLogitsPickLowestLevel() {
    // Output rows 1 and 3 have the same weights and the highest bias, so
    // their logits are bit-identical in every row and beat the others.
    var network = randomNetwork(
      observationSize: 3, actionSpace: .discrete(count: 4), hiddenSizes: [5], seed: 4)
    var output = network.policy.layers[1]
    for column in 0..<output.weight.columns {
      output.weight[3, column] = output.weight[1, column]
    }
    output.bias = [-100, 100, -100, 100]
    network.policy.layers[1] = output
    let observations = randomObservations(rows: 40, features: 3, seed: 6)
    var generator = Xoshiro256(seed: 0)
    let expected = network.actions(
      observations: observations, count: 40, deterministic: true, generator: &generator)

    var evaluator = PolicyEvaluator(network: network, normalizer: nil, tileRows: 16)
    let actions = evaluator.actions(observations: observations, count: 40)

    #expect(expected == [Float](repeating: 1, count: 40))
    #expect(actions == expected)
  }

  @Test func nanObservationMatchesReference() {
    let network = randomNetwork(
      observationSize: 3, actionSpace: .discrete(count: 4), hiddenSizes: [5], seed: 8)
    var observations = randomObservations(rows: 10, features: 3, seed: 1)
    observations[4] = .nan
    let normalizer = fittedNormalizer(
      randomObservations(rows: 10, features: 3, seed: 2), features: 3)
    var generator = Xoshiro256(seed: 0)
    let expected = network.actions(
      observations: normalizer.normalize(observations), count: 10, deterministic: true,
      generator: &generator)

    var evaluator = PolicyEvaluator(network: network, normalizer: normalizer, tileRows: 4)
    let actions = evaluator.actions(observations: observations, count: 10)

    // Row 1 contains the NaN, so all its logits are NaN and level 0 wins.
    #expect(expected[1] == 0)
    #expect(actions == expected)
  }

  @Test func reusedEvaluatorMatchesFreshOne() {
    let features = 5
    let network = randomNetwork(
      observationSize: features, actionSpace: .discrete(count: 6), hiddenSizes: [16, 16], seed: 12)
    let normalizer = fittedNormalizer(
      randomObservations(rows: 200, features: features, seed: 3), features: features)
    var reused = PolicyEvaluator(network: network, normalizer: normalizer, tileRows: 32)
    var actions = [Float]()
    for (index, rows) in [100, 7, 0, 250, 100].enumerated() {
      let observations = randomObservations(
        rows: rows, features: features, seed: UInt64(20 + index))
      reused.actions(observations: observations, count: rows, into: &actions)
      var fresh = PolicyEvaluator(network: network, normalizer: normalizer, tileRows: 32)

      #expect(actions.count == rows)
      #expect(actions == fresh.actions(observations: observations, count: rows), "call \(index)")
    }
  }
}
