import Foundation
import TitrateRandom

/// The distribution of one patient covariate in a virtual population.
///
/// Bounds truncate the distribution: draws outside are rejected and drawn
/// again, so the result follows the distribution conditioned on the
/// interval. `validate()` requires the interval to carry at least
/// `minimumTruncatedMass` of the probability, which keeps the expected
/// number of redraws below 1 / `minimumTruncatedMass`.
///
/// JSON form (synthesized `Codable`): the case name wraps its labelled
/// values, and absent bounds may be left out, for example
/// `{"normal": {"mean": 70, "standardDeviation": 15, "lowerBound": 40}}`.
public enum CovariateDistribution: Codable, Sendable, Equatable {
  /// Normal with `mean` and `standardDeviation` (> 0), optionally truncated
  /// to [lowerBound, upperBound].
  case normal(mean: Double, standardDeviation: Double, lowerBound: Double?, upperBound: Double?)
  /// Log-normal with `median` (> 0) and coefficient of variation
  /// `coefficientOfVariation` (a fraction > 0; log-scale variance
  /// ln(1 + CV^2)), optionally truncated.
  case logNormal(
    median: Double, coefficientOfVariation: Double, lowerBound: Double?, upperBound: Double?)
  /// Uniform on [lowerBound, upperBound), lowerBound < upperBound.
  case uniform(lowerBound: Double, upperBound: Double)
  /// 1 with `probability` (in [0, 1]), else 0: an indicator covariate.
  case bernoulli(probability: Double)
  /// One of `values` with the matching `probabilities` (>= 0, summing to 1
  /// within 1e-9).
  case categorical(values: [Double], probabilities: [Double])

  /// The minimum probability mass a truncation interval must keep, 0.001.
  public static let minimumTruncatedMass = 1e-3

  /// Checks the constants and the truncation mass.
  /// - Throws: `PharmacokineticError` naming the field, the value and the
  ///   allowed range.
  public func validate() throws(PharmacokineticError) {
    switch self {
    case .normal(let mean, let deviation, let lower, let upper):
      try requireFinite(mean, "normal.mean")
      try requirePositiveFinite(deviation, "normal.standardDeviation")
      try Self.checkTruncation(
        lower: lower.map { ($0 - mean) / deviation },
        upper: upper.map { ($0 - mean) / deviation }, bounds: (lower, upper), name: "normal")
    case .logNormal(let median, let cv, let lower, let upper):
      try requirePositiveFinite(median, "logNormal.median")
      try requirePositiveFinite(cv, "logNormal.coefficientOfVariation")
      if let bound = lower, !(bound >= 0) {
        throw PharmacokineticError(
          parameter: "logNormal.lowerBound", value: "\(bound)",
          requirement: "expected a bound >= 0 (log-normal draws are positive)")
      }
      let sigma = LogNormalVariability.omegaSquared(coefficientOfVariation: cv).squareRoot()
      try Self.checkTruncation(
        lower: lower.map { log($0 / median) / sigma },
        upper: upper.map { log($0 / median) / sigma }, bounds: (lower, upper),
        name: "logNormal")
    case .uniform(let lower, let upper):
      try requireFinite(lower, "uniform.lowerBound")
      try requireFinite(upper, "uniform.upperBound")
      guard lower < upper else {
        throw PharmacokineticError(
          parameter: "uniform", value: "[\(lower), \(upper))",
          requirement: "expected lowerBound < upperBound")
      }
    case .bernoulli(let probability):
      guard probability >= 0, probability <= 1 else {
        throw PharmacokineticError(
          parameter: "bernoulli.probability", value: "\(probability)",
          requirement: "expected a probability in [0, 1]")
      }
    case .categorical(let values, let probabilities):
      guard !values.isEmpty, values.count == probabilities.count else {
        throw PharmacokineticError(
          parameter: "categorical",
          value: "\(values.count) values, \(probabilities.count) probabilities",
          requirement: "expected at least one value and one probability per value")
      }
      for value in values { try requireFinite(value, "categorical.values") }
      let total = probabilities.reduce(0, +)
      guard probabilities.allSatisfy({ $0 >= 0 && $0.isFinite }), abs(total - 1) <= 1e-9
      else {
        throw PharmacokineticError(
          parameter: "categorical.probabilities", value: "\(probabilities) (sum \(total))",
          requirement: "expected probabilities >= 0 that sum to 1")
      }
    }
  }

  /// Draws one value. Normal draws use `nextStandardNormal` (two uniforms
  /// each); every other case without truncation uses one uniform.
  /// - Precondition: the distribution passed `validate()`.
  public func sample(using generator: inout Xoshiro256) -> Double {
    switch self {
    case .normal(let mean, let deviation, let lower, let upper):
      return Self.truncated(lower: lower, upper: upper) {
        mean + deviation * generator.nextStandardNormal()
      }
    case .logNormal(let median, let cv, let lower, let upper):
      let sigma = LogNormalVariability.omegaSquared(coefficientOfVariation: cv).squareRoot()
      return Self.truncated(lower: lower, upper: upper) {
        median * exp(sigma * generator.nextStandardNormal())
      }
    case .uniform(let lower, let upper):
      return lower + (upper - lower) * generator.nextUniform()
    case .bernoulli(let probability):
      return generator.nextUniform() < probability ? 1 : 0
    case .categorical(let values, let probabilities):
      let uniform = generator.nextUniform()
      var cumulative = 0.0
      for (value, probability) in zip(values, probabilities) {
        cumulative += probability
        if uniform < cumulative { return value }
      }
      // Round-off can leave the cumulative sum just under 1.
      return values[probabilities.lastIndex { $0 > 0 } ?? values.count - 1]
    }
  }

  private static func truncated(
    lower: Double?, upper: Double?, draw: () -> Double
  ) -> Double {
    // validate() guarantees a mass >= 1e-3, so 10^6 tries fail with
    // probability below e^-1000.
    for _ in 0..<1_000_000 {
      let value = draw()
      if let bound = lower, value < bound { continue }
      if let bound = upper, value > bound { continue }
      return value
    }
    preconditionFailure("truncated draw found no value in [\(lower as Any), \(upper as Any)]")
  }

  /// Checks standardised bounds (z-scores) for order and enough mass.
  private static func checkTruncation(
    lower: Double?, upper: Double?, bounds: (Double?, Double?), name: String
  ) throws(PharmacokineticError) {
    let lowerZ = lower ?? -.infinity
    let upperZ = upper ?? .infinity
    let mass = 0.5 * (erfc(-upperZ / 2.0.squareRoot()) - erfc(-lowerZ / 2.0.squareRoot()))
    guard !lowerZ.isNaN, !upperZ.isNaN, mass >= minimumTruncatedMass else {
      throw PharmacokineticError(
        parameter: "\(name) bounds",
        value: "[\(bounds.0.map { "\($0)" } ?? "-inf"), \(bounds.1.map { "\($0)" } ?? "inf")]"
          + " (probability mass \(mass))",
        requirement:
          "expected lowerBound < upperBound around the bulk of the distribution, keeping"
          + " at least \(minimumTruncatedMass) of its mass")
    }
  }
}

/// Draws one value of every covariate, in sorted name order so that the
/// draws do not depend on dictionary iteration order.
/// - Precondition: every distribution passed `validate()`.
public func sampleCovariates(
  _ distributions: [String: CovariateDistribution], using generator: inout Xoshiro256
) -> [String: Double] {
  var result: [String: Double] = [:]
  for name in distributions.keys.sorted() {
    result[name] = distributions[name]!.sample(using: &generator)
  }
  return result
}
