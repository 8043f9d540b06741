import Foundation
import TitrateRandom

/// A correlation between the random effects (etas) of two parameters.
public struct EtaCorrelation: Codable, Sendable, Equatable {
  /// Index of the first eta, 0-based.
  public var first: Int
  /// Index of the second eta, 0-based, different from `first`.
  public var second: Int
  /// Pearson correlation of the two etas, in (-1, 1).
  public var coefficient: Double

  /// Creates a correlation entry.
  public init(first: Int, second: Int, coefficient: Double) {
    self.first = first
    self.second = second
    self.coefficient = coefficient
  }
}

/// Between-subject variability on the log scale: a parameter is
/// `typical * exp(eta)` with eta ~ N(0, omega^2), and the etas of several
/// parameters may be correlated (a full correlation matrix factored once by
/// Cholesky).
///
/// Scale convention: a reported CV is the coefficient of variation of the
/// log-normal parameter, so omega^2 = ln(1 + CV^2) and
/// CV = sqrt(exp(omega^2) - 1). For small CV, omega is close to CV (CV 30%
/// gives omega 0.294). Some papers instead report sqrt(omega^2) as a
/// "CV"; convert such values with `omegaSquared = cv * cv` directly.
public struct LogNormalVariability: Codable, Sendable, Equatable {
  /// Variance of each eta, omega^2, >= 0 (0 turns the variability off).
  public let omegaSquared: [Double]
  /// Correlations between pairs of etas; unlisted pairs are independent.
  public let correlations: [EtaCorrelation]
  /// Lower-triangular Cholesky factor of the correlation matrix, row-major.
  private let choleskyFactor: [Double]

  private enum CodingKeys: String, CodingKey { case omegaSquared, correlations }

  /// Returns omega^2 = ln(1 + CV^2) for a log-normal coefficient of
  /// variation `coefficientOfVariation` (a fraction: 0.3 for 30%, >= 0).
  public static func omegaSquared(coefficientOfVariation: Double) -> Double {
    log1p(coefficientOfVariation * coefficientOfVariation)
  }

  /// Returns CV = sqrt(exp(omega^2) - 1), the inverse of
  /// `omegaSquared(coefficientOfVariation:)`.
  public static func coefficientOfVariation(omegaSquared: Double) -> Double {
    expm1(omegaSquared).squareRoot()
  }

  /// Creates variability from eta variances and pairwise correlations.
  /// - Throws: `PharmacokineticError` for a negative or non-finite
  ///   variance, a bad index, a coefficient outside (-1, 1), a duplicate
  ///   pair, or a correlation matrix that is not positive definite.
  public init(omegaSquared: [Double], correlations: [EtaCorrelation] = [])
    throws(PharmacokineticError)
  {
    for (index, variance) in omegaSquared.enumerated()
    where !(variance.isFinite && variance >= 0) {
      throw PharmacokineticError(
        parameter: "omegaSquared[\(index)]", value: "\(variance)",
        requirement: "expected a finite variance >= 0 (use 0 for no variability)")
    }
    self.omegaSquared = omegaSquared
    self.correlations = correlations
    let matrix = try Self.correlationMatrix(
      dimension: omegaSquared.count, correlations: correlations)
    choleskyFactor = try Self.cholesky(matrix, dimension: omegaSquared.count)
  }

  /// Creates variability from log-normal coefficients of variation
  /// (fractions, >= 0), converted by `omegaSquared(coefficientOfVariation:)`.
  public init(coefficientsOfVariation: [Double], correlations: [EtaCorrelation] = [])
    throws(PharmacokineticError)
  {
    for (index, cv) in coefficientsOfVariation.enumerated() where !(cv.isFinite && cv >= 0) {
      throw PharmacokineticError(
        parameter: "coefficientsOfVariation[\(index)]", value: "\(cv)",
        requirement: "expected a finite fraction >= 0 (0.3 for 30%)")
    }
    try self.init(
      omegaSquared: coefficientsOfVariation.map { Self.omegaSquared(coefficientOfVariation: $0) },
      correlations: correlations)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let variances = try container.decode([Double].self, forKey: .omegaSquared)
    let pairs = try container.decodeIfPresent([EtaCorrelation].self, forKey: .correlations)
    try self.init(omegaSquared: variances, correlations: pairs ?? [])
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(omegaSquared, forKey: .omegaSquared)
    try container.encode(correlations, forKey: .correlations)
  }

  /// The number of etas.
  public var count: Int { omegaSquared.count }

  /// Draws one eta vector: eta = diag(omega) L z with z ~ N(0, I) and
  /// L L^T the correlation matrix. Consumes exactly `count` normal draws.
  public func sampleEtas(using generator: inout Xoshiro256) -> [Double] {
    let n = count
    var standard = [Double](repeating: 0, count: n)
    for index in 0..<n { standard[index] = generator.nextStandardNormal() }
    var etas = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var sum = 0.0
      for j in 0...i { sum += choleskyFactor[i * n + j] * standard[j] }
      etas[i] = omegaSquared[i].squareRoot() * sum
    }
    return etas
  }

  /// Draws `typicalValues[i] * exp(eta_i)` for every parameter.
  /// - Precondition: `typicalValues.count == count`.
  public func sample(typicalValues: [Double], using generator: inout Xoshiro256) -> [Double] {
    precondition(
      typicalValues.count == count,
      "expected \(count) typical values, got \(typicalValues.count)")
    let etas = sampleEtas(using: &generator)
    return zip(typicalValues, etas).map { $0 * exp($1) }
  }

  private static func correlationMatrix(
    dimension n: Int, correlations: [EtaCorrelation]
  ) throws(PharmacokineticError) -> [Double] {
    var matrix = identityMatrix(dimension: n)
    for (index, entry) in correlations.enumerated() {
      let name = "correlations[\(index)]"
      guard (0..<n).contains(entry.first), (0..<n).contains(entry.second),
        entry.first != entry.second
      else {
        throw PharmacokineticError(
          parameter: name, value: "etas \(entry.first) and \(entry.second)",
          requirement: "expected two different eta indices in 0..<\(n)")
      }
      guard entry.coefficient.isFinite, abs(entry.coefficient) < 1 else {
        throw PharmacokineticError(
          parameter: "\(name).coefficient", value: "\(entry.coefficient)",
          requirement: "expected a correlation strictly between -1 and 1")
      }
      guard matrix[entry.first * n + entry.second] == 0 else {
        throw PharmacokineticError(
          parameter: name, value: "etas \(entry.first) and \(entry.second)",
          requirement: "this pair is already listed; keep one entry per pair")
      }
      matrix[entry.first * n + entry.second] = entry.coefficient
      matrix[entry.second * n + entry.first] = entry.coefficient
    }
    return matrix
  }

  private static func cholesky(_ matrix: [Double], dimension n: Int)
    throws(PharmacokineticError) -> [Double]
  {
    var factor = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0...i {
        var sum = matrix[i * n + j]
        for k in 0..<j { sum -= factor[i * n + k] * factor[j * n + k] }
        if i == j {
          guard sum > 1e-12 else {
            throw PharmacokineticError(
              parameter: "correlations", value: "pivot \(sum) at eta \(i)",
              requirement:
                "the correlation matrix must be positive definite; reduce the listed"
                + " coefficients")
          }
          factor[i * n + i] = sum.squareRoot()
        } else {
          factor[i * n + j] = sum / factor[j * n + j]
        }
      }
    }
    return factor
  }
}
