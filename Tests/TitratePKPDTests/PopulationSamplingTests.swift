import Foundation
import Testing
import TitrateRandom

@testable import TitratePKPD

/// Statistical checks on 100,000 draws. Each tolerance is several standard
/// errors wide (noted per test), so a seeded run passes reliably while a
/// wrong scale (CV taken as omega, a missing square root) fails.
@Suite struct PopulationSamplingTests {
  static let sampleCount = 100_000

  private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

  private func standardDeviation(_ values: [Double]) -> Double {
    let average = mean(values)
    let sum = values.reduce(0) { $0 + ($1 - average) * ($1 - average) }
    return (sum / Double(values.count - 1)).squareRoot()
  }

  private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return 0.5 * (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2])
  }

  private func correlation(_ x: [Double], _ y: [Double]) -> Double {
    let meanX = mean(x)
    let meanY = mean(y)
    var sxy = 0.0
    var sxx = 0.0
    var syy = 0.0
    for (a, b) in zip(x, y) {
      sxy += (a - meanX) * (b - meanY)
      sxx += (a - meanX) * (a - meanX)
      syy += (b - meanY) * (b - meanY)
    }
    return sxy / (sxx * syy).squareRoot()
  }

  @Test func omegaSquaredConversion() {
    // Goti 2018 CV 39.8% corresponds to omega^2 = ln(1 + 0.398^2) = 0.14704.
    let omegaSquared = LogNormalVariability.omegaSquared(coefficientOfVariation: 0.398)
    #expect(abs(omegaSquared - log(1 + 0.398 * 0.398)) <= 1e-15)
    #expect(abs(omegaSquared - 0.14704) <= 1e-5)
    let back = LogNormalVariability.coefficientOfVariation(omegaSquared: omegaSquared)
    #expect(abs(back - 0.398) <= 1e-14)
  }

  @Test func logNormalMedianAndCoefficientOfVariation() throws {
    let variability = try LogNormalVariability(coefficientsOfVariation: [0.398])
    var generator = Xoshiro256(seed: 11)
    let clearances = (0..<Self.sampleCount).map { _ in
      variability.sample(typicalValues: [4.5], using: &generator)[0]
    }
    // Median: standard error about 1.25 omega / sqrt(n) = 0.15%; allow 1%.
    #expect(abs(median(clearances) / 4.5 - 1) <= 0.01)
    // CV: standard error about 0.3% of 0.398 here; allow 3% relative.
    let cv = standardDeviation(clearances) / mean(clearances)
    #expect(abs(cv / 0.398 - 1) <= 0.03, "sample CV \(cv)")
  }

  @Test func correlationReproduced() throws {
    // Three etas: CL and V1 correlated 0.6, V1 and V2 -0.3, CL and V2 0.
    let variability = try LogNormalVariability(
      omegaSquared: [0.147, 0.510, 0.282],
      correlations: [
        EtaCorrelation(first: 0, second: 1, coefficient: 0.6),
        EtaCorrelation(first: 1, second: 2, coefficient: -0.3),
      ])
    var generator = Xoshiro256(seed: 12)
    var etas = [[Double]](repeating: [], count: 3)
    for _ in 0..<Self.sampleCount {
      let draw = variability.sampleEtas(using: &generator)
      for index in 0..<3 { etas[index].append(draw[index]) }
    }
    // Standard error of r is about (1 - r^2) / sqrt(n) <= 0.0032; allow 0.015.
    #expect(abs(correlation(etas[0], etas[1]) - 0.6) <= 0.015)
    #expect(abs(correlation(etas[1], etas[2]) + 0.3) <= 0.015)
    #expect(abs(correlation(etas[0], etas[2])) <= 0.015)
    // Variances: standard error sqrt(2 / n) omega^2 = 0.45%; allow 2%.
    for (index, variance) in [0.147, 0.510, 0.282].enumerated() {
      let sd = standardDeviation(etas[index])
      #expect(abs(sd * sd / variance - 1) <= 0.02, "eta \(index)")
    }
  }

  @Test func rejectsIndefiniteCorrelation() {
    // 0.9, 0.9, -0.9 cannot all hold at once.
    #expect(throws: PharmacokineticError.self) {
      _ = try LogNormalVariability(
        omegaSquared: [0.1, 0.1, 0.1],
        correlations: [
          EtaCorrelation(first: 0, second: 1, coefficient: 0.9),
          EtaCorrelation(first: 1, second: 2, coefficient: 0.9),
          EtaCorrelation(first: 0, second: 2, coefficient: -0.9),
        ])
    }
    #expect(throws: PharmacokineticError.self) {
      _ = try LogNormalVariability(
        omegaSquared: [0.1, 0.1],
        correlations: [EtaCorrelation(first: 0, second: 2, coefficient: 0.5)])
    }
    #expect(throws: PharmacokineticError.self) {
      _ = try LogNormalVariability(omegaSquared: [-0.1])
    }
  }

  @Test func normalMoments() throws {
    let distribution = CovariateDistribution.normal(
      mean: 70, standardDeviation: 15, lowerBound: nil, upperBound: nil)
    try distribution.validate()
    var generator = Xoshiro256(seed: 21)
    let values = (0..<Self.sampleCount).map { _ in distribution.sample(using: &generator) }
    // Standard errors: mean 0.047, sd 0.034; allow 0.25 and 0.2.
    #expect(abs(mean(values) - 70) <= 0.25)
    #expect(abs(standardDeviation(values) - 15) <= 0.2)
  }

  @Test func truncatedNormalMeanAndBounds() throws {
    // Truncated to [50, 120]: mean = mu + sigma (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
    let (mu, sigma, lower, upper) = (70.0, 20.0, 50.0, 120.0)
    let distribution = CovariateDistribution.normal(
      mean: mu, standardDeviation: sigma, lowerBound: lower, upperBound: upper)
    try distribution.validate()
    var generator = Xoshiro256(seed: 22)
    let values = (0..<Self.sampleCount).map { _ in distribution.sample(using: &generator) }
    #expect(values.allSatisfy { $0 >= lower })
    #expect(values.allSatisfy { $0 <= upper })
    let a = (lower - mu) / sigma
    let b = (upper - mu) / sigma
    func density(_ z: Double) -> Double { exp(-z * z / 2) / (2 * Double.pi).squareRoot() }
    func cumulative(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }
    let expected = mu + sigma * (density(a) - density(b)) / (cumulative(b) - cumulative(a))
    #expect(abs(mean(values) - expected) <= 0.25, "expected \(expected)")
  }

  @Test func logNormalCovariateMedianAndCV() throws {
    let distribution = CovariateDistribution.logNormal(
      median: 1.1, coefficientOfVariation: 0.5, lowerBound: nil, upperBound: nil)
    try distribution.validate()
    var generator = Xoshiro256(seed: 23)
    let values = (0..<Self.sampleCount).map { _ in distribution.sample(using: &generator) }
    #expect(abs(median(values) / 1.1 - 1) <= 0.01)
    // The CV of a log-normal with sigma 0.47 converges slowly; allow 4%.
    #expect(abs(standardDeviation(values) / mean(values) / 0.5 - 1) <= 0.04)
  }

  @Test func uniformBernoulliCategoricalMoments() throws {
    var generator = Xoshiro256(seed: 24)
    let uniform = CovariateDistribution.uniform(lowerBound: 18, upperBound: 90)
    let ages = (0..<Self.sampleCount).map { _ in uniform.sample(using: &generator) }
    #expect(ages.allSatisfy { $0 >= 18 })
    #expect(ages.allSatisfy { $0 < 90 })
    #expect(abs(mean(ages) - 54) <= 0.4)  // standard error 0.066
    #expect(abs(standardDeviation(ages) - 72 / 12.0.squareRoot()) <= 0.2)

    let bernoulli = CovariateDistribution.bernoulli(probability: 0.185)
    let dialysis = (0..<Self.sampleCount).map { _ in bernoulli.sample(using: &generator) }
    #expect(Set(dialysis).isSubset(of: [0, 1]))
    #expect(abs(mean(dialysis) - 0.185) <= 0.006)  // standard error 0.0012

    let categorical = CovariateDistribution.categorical(
      values: [0, 1, 2], probabilities: [0.6739, 0.3, 0.0261])
    try categorical.validate()
    let genotypes = (0..<Self.sampleCount).map { _ in categorical.sample(using: &generator) }
    for (value, probability) in [(0.0, 0.6739), (1.0, 0.3), (2.0, 0.0261)] {
      let frequency = Double(genotypes.filter { $0 == value }.count) / Double(Self.sampleCount)
      #expect(abs(frequency - probability) <= 0.007, "value \(value)")
    }
  }

  @Test func rejectsInvalidDistributions() {
    let invalid: [CovariateDistribution] = [
      .normal(mean: 0, standardDeviation: 0, lowerBound: nil, upperBound: nil),
      .normal(mean: 0, standardDeviation: 1, lowerBound: 10, upperBound: 11),
      .normal(mean: 0, standardDeviation: 1, lowerBound: 2, upperBound: 1),
      .logNormal(median: -1, coefficientOfVariation: 0.3, lowerBound: nil, upperBound: nil),
      .uniform(lowerBound: 5, upperBound: 5),
      .bernoulli(probability: 1.5),
      .categorical(values: [1, 2], probabilities: [0.5, 0.6]),
      .categorical(values: [1], probabilities: [0.5, 0.5]),
    ]
    for distribution in invalid {
      #expect(throws: PharmacokineticError.self, "\(distribution)") {
        try distribution.validate()
      }
    }
  }

  @Test func covariateSamplingIsDeterministic() throws {
    let distributions: [String: CovariateDistribution] = [
      "age": .uniform(lowerBound: 18, upperBound: 90),
      "weight": .normal(mean: 80, standardDeviation: 18, lowerBound: 40, upperBound: 200),
      "female": .bernoulli(probability: 0.45),
    ]
    var first = Xoshiro256(seed: 5)
    var second = Xoshiro256(seed: 5)
    for _ in 0..<100 {
      #expect(
        sampleCovariates(distributions, using: &first)
          == sampleCovariates(distributions, using: &second))
    }
  }

  @Test func codableRoundTrip() throws {
    let distribution = CovariateDistribution.logNormal(
      median: 1, coefficientOfVariation: 0.3, lowerBound: 0.4, upperBound: nil)
    let variability = try LogNormalVariability(
      omegaSquared: [0.1, 0.2],
      correlations: [EtaCorrelation(first: 0, second: 1, coefficient: 0.25)])
    let effect = CovariateEffect.power(covariate: "weight", reference: 70, exponent: 0.75)
    let encoder = JSONEncoder()
    let decoder = JSONDecoder()
    #expect(
      try decoder.decode(CovariateDistribution.self, from: encoder.encode(distribution))
        == distribution)
    #expect(
      try decoder.decode(LogNormalVariability.self, from: encoder.encode(variability))
        == variability)
    #expect(try decoder.decode(CovariateEffect.self, from: encoder.encode(effect)) == effect)
  }

  @Test func decodesDocumentedJSONShape() throws {
    let json = """
      [{"normal": {"mean": 70, "standardDeviation": 15}},
       {"logNormal": {"median": 1, "coefficientOfVariation": 0.3, "lowerBound": 0.4}},
       {"bernoulli": {"probability": 0.2}}]
      """
    let decoded = try JSONDecoder().decode([CovariateDistribution].self, from: Data(json.utf8))
    #expect(
      decoded == [
        .normal(mean: 70, standardDeviation: 15, lowerBound: nil, upperBound: nil),
        .logNormal(median: 1, coefficientOfVariation: 0.3, lowerBound: 0.4, upperBound: nil),
        .bernoulli(probability: 0.2),
      ])
    let effect = try JSONDecoder().decode(
      CovariateEffect.self,
      from: Data(#"{"power": {"covariate": "weight", "reference": 70, "exponent": 1}}"#.utf8))
    #expect(effect == .power(covariate: "weight", reference: 70, exponent: 1))
  }

  @Test func decodingRejectsBadCorrelation() {
    let json = """
      {"omegaSquared": [0.1, 0.1],
       "correlations": [{"first": 0, "second": 1, "coefficient": 1.5}]}
      """
    #expect(throws: PharmacokineticError.self) {
      _ = try JSONDecoder().decode(LogNormalVariability.self, from: Data(json.utf8))
    }
  }
}
