import Foundation
import Testing
import TitrateLinearAlgebra
import TitrateRandom

@testable import TitratePolicy

@Suite struct CategoricalHeadTests {
  let logits = Matrix(rows: 3, columns: 4, values: [0.5, -1, 2, 0, 3, 3, -2, 1, 0, 0, 0, 0])
  let actions: [Float] = [2, 0, 3]

  @Test func logProbabilityMatchesDirectFormula() {
    let values = CategoricalHead.logProbabilities(logits: logits, actions: actions)
    for row in 0..<3 {
      let normalizer = (0..<4).reduce(0.0) { $0 + exp(Double(logits[row, $1])) }
      let expected = Double(logits[row, Int(actions[row])]) - log(normalizer)
      #expect(abs(Double(values[row]) - expected) <= 1e-6)
    }
    // A uniform row has entropy log(4).
    #expect(abs(Double(CategoricalHead.entropies(logits: logits)[2]) - log(4)) <= 1e-6)
  }

  @Test func rowStatisticsMatchStandaloneFunctions() {
    var generator = Xoshiro256(seed: 8)
    let rows = 50
    let wide = Matrix(
      rows: rows, columns: 13,
      values: (0..<(rows * 13)).map { _ in Float(4 * generator.nextStandardNormal()) })
    let levels = (0..<rows).map { Float($0 % 13) }
    var statistics = CategoricalHead.RowStatistics()
    statistics.compute(logits: wide)
    var reference = Matrix(rows: 0, columns: 0)
    CategoricalHead.logSoftmax(wide, into: &reference)
    // Training must compute log-probabilities as the rollout does, bit for
    // bit, so that PPO's first ratio differs from 1 only through the
    // network outputs.
    #expect(statistics.logSoftmax.values.map(\.bitPattern) == reference.values.map(\.bitPattern))
    #expect(
      statistics.logProbabilities(actions: levels).map(\.bitPattern)
        == CategoricalHead.logProbabilities(logits: wide, actions: levels).map(\.bitPattern))
    // Probabilities close to the softmax in Double: relative error of a few
    // Float ulps plus the rounding of the argument z - max, which grows
    // with its magnitude.
    for row in 0..<rows {
      let shifted = (0..<13).map { Double(wide[row, $0]) }
      let maximum = shifted.max()!
      let normalizer = shifted.reduce(0.0) { $0 + exp($1 - maximum) }
      var total = 0.0
      for column in 0..<13 {
        let probability = Double(statistics.probabilities[row, column])
        let expected = exp(shifted[column] - maximum) / normalizer
        total += probability
        let tolerance =
          expected * Double(Float.ulpOfOne) * (abs(shifted[column] - maximum) + 3)
        #expect(abs(probability - expected) <= tolerance, "row \(row), column \(column)")
      }
      #expect(abs(total - 1) <= 1e-6, "row \(row)")
    }
  }

  @Test func gradientsMatchFiniteDifferences() {
    let logProbabilityWeights: [Float] = [0.7, -1.3, 0.4]
    let entropyWeights: [Float] = [-0.2, 0.9, 1.5]
    var analytic = Matrix(rows: 0, columns: 0)
    CategoricalHead.logitsGradient(
      logits: logits, actions: actions, logProbabilityGradients: logProbabilityWeights,
      entropyGradients: entropyWeights, into: &analytic)
    let numeric = numericGradient(at: logits.values, step: 1e-3) { point in
      let perturbed = Matrix(rows: 3, columns: 4, values: point)
      let logProbabilities = CategoricalHead.logProbabilities(logits: perturbed, actions: actions)
      let entropies = CategoricalHead.entropies(logits: perturbed)
      return (0..<3).reduce(0.0) { sum, row in
        sum + Double(logProbabilityWeights[row]) * Double(logProbabilities[row])
          + Double(entropyWeights[row]) * Double(entropies[row])
      }
    }
    #expect(worstGradientMismatch(numeric: numeric, analytic: analytic.values) <= 0)
  }

  @Test func samplingFollowsProbabilities() {
    var generator = Xoshiro256(seed: 5)
    let row = Matrix(rows: 1, columns: 3, values: [0, log(2), log(7)])  // p = 0.1, 0.2, 0.7
    var counts = [0, 0, 0]
    let draws = 20_000
    let batch = Matrix(rows: draws, columns: 3, values: Array([[Float]](repeating: row.values, count: draws).joined()))
    for action in CategoricalHead.sample(logits: batch, generator: &generator) {
      counts[Int(action)] += 1
    }
    // Binomial standard error at n = 20,000 is at most 0.0035; allow 4.
    for (level, probability) in [0.1, 0.2, 0.7].enumerated() {
      #expect(abs(Double(counts[level]) / Double(draws) - probability) <= 0.014)
    }
    #expect(CategoricalHead.mostLikely(logits: logits) == [2, 0, 0])
  }
}

@Suite struct GaussianHeadTests {
  let head = GaussianHead(logStd: [0.3, -0.5])
  let means = Matrix(rows: 3, columns: 2, values: [0.1, -0.4, 1.2, 0.0, -0.7, 0.5])
  let actions = Matrix(rows: 3, columns: 2, values: [0.5, -0.1, 0.2, 0.3, -0.9, 1.4])

  @Test func logProbabilityMatchesDirectFormula() {
    let values = head.logProbabilities(means: means, actions: actions)
    for row in 0..<3 {
      var expected = 0.0
      for column in 0..<2 {
        let sigma = exp(Double(head.logStd[column]))
        let z = (Double(actions[row, column]) - Double(means[row, column])) / sigma
        expected += -0.5 * z * z - log(sigma) - 0.5 * log(2 * Double.pi)
      }
      #expect(abs(Double(values[row]) - expected) <= 1e-5)
    }
    let expectedEntropy = 2 * (0.5 + 0.5 * log(2 * Double.pi)) + 0.3 - 0.5
    #expect(abs(Double(head.entropy) - expectedEntropy) <= 1e-6)
  }

  @Test func gradientsMatchFiniteDifferences() {
    let logProbabilityWeights: [Float] = [0.7, -1.3, 0.4]
    let entropyWeights: [Float] = [-0.2, 0.9, 1.5]
    var meanGradient = Matrix(rows: 0, columns: 0)
    var logStdGradient: [Float] = []
    head.gradients(
      means: means, actions: actions, logProbabilityGradients: logProbabilityWeights,
      entropyGradients: entropyWeights, meanGradient: &meanGradient,
      logStdGradient: &logStdGradient)

    // Differentiate with respect to (means, logStd) stacked in one vector.
    let point = means.values + head.logStd
    let numeric = numericGradient(at: point, step: 1e-3) { point in
      let perturbedMeans = Matrix(rows: 3, columns: 2, values: Array(point[0..<6]))
      let perturbedHead = GaussianHead(logStd: Array(point[6..<8]))
      let logProbabilities = perturbedHead.logProbabilities(means: perturbedMeans, actions: actions)
      return (0..<3).reduce(0.0) { sum, row in
        sum + Double(logProbabilityWeights[row]) * Double(logProbabilities[row])
          + Double(entropyWeights[row]) * Double(perturbedHead.entropy)
      }
    }
    let analytic = meanGradient.values + logStdGradient
    #expect(worstGradientMismatch(numeric: numeric, analytic: analytic) <= 0)
  }

  @Test func samplingHasRequestedMoments() {
    var generator = Xoshiro256(seed: 9)
    let draws = 20_000
    let single = GaussianHead(logStd: [log(2)])
    let samples = single.sample(
      means: Matrix(rows: draws, columns: 1, repeating: 3), generator: &generator)
    let mean = samples.values.reduce(0.0) { $0 + Double($1) } / Double(draws)
    let variance = samples.values.reduce(0.0) { $0 + pow(Double($1) - mean, 2) } / Double(draws)
    // Standard errors: 2 / sqrt(n) = 0.014 for the mean, about 0.04 for the variance.
    #expect(abs(mean - 3) <= 0.06)
    #expect(abs(variance - 4) <= 0.2)
  }
}
