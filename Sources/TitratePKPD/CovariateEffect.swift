import Foundation
import TitrateRandom

/// A multiplicative effect of one patient covariate on a PK parameter.
///
/// The parameter is typical value x product of the effects' factors x
/// exp(eta) (see `ParameterModel`). Covariates are looked up by name, in
/// whatever unit the model's source uses (for example creatinine clearance
/// in mL/min, weight in kg, an indicator 0 or 1). JSON form (synthesized
/// `Codable`): `{"power": {"covariate": "weight", "reference": 70,
/// "exponent": 0.75}}`.
public enum CovariateEffect: Codable, Sendable, Equatable {
  /// (c / reference)^exponent, for allometric or renal scaling; c > 0.
  case power(covariate: String, reference: Double, exponent: Double)
  /// 1 + slope (c - reference); can reach 0 or below, so give the
  /// parameter a lower bound.
  case linear(covariate: String, reference: Double, slope: Double)
  /// c / reference (the power effect with exponent 1).
  case proportional(covariate: String, reference: Double)
  /// factor^c for an indicator c in {0, 1} (for example 0.7^HD).
  case categorical(covariate: String, factor: Double)
  /// exp(coefficient (c - reference)).
  case exponential(covariate: String, reference: Double, coefficient: Double)

  /// The name of the covariate the effect reads.
  public var covariate: String {
    switch self {
    case .power(let name, _, _), .linear(let name, _, _), .proportional(let name, _),
      .categorical(let name, _), .exponential(let name, _, _):
      name
    }
  }

  /// Returns the multiplicative factor for covariate value `value`.
  public func factor(covariateValue value: Double) -> Double {
    switch self {
    case .power(_, let reference, let exponent): pow(value / reference, exponent)
    case .linear(_, let reference, let slope): 1 + slope * (value - reference)
    case .proportional(_, let reference): value / reference
    case .categorical(_, let factor): pow(factor, value)
    case .exponential(_, let reference, let coefficient): exp(coefficient * (value - reference))
    }
  }

  /// Checks the constants: references and categorical factors finite and
  /// > 0, exponents, slopes and coefficients finite.
  public func validate() throws(PharmacokineticError) {
    switch self {
    case .power(let name, let reference, let exponent):
      try requirePositiveFinite(reference, "power(\(name)).reference")
      try requireFinite(exponent, "power(\(name)).exponent")
    case .linear(let name, let reference, let slope):
      try requireFinite(reference, "linear(\(name)).reference")
      try requireFinite(slope, "linear(\(name)).slope")
    case .proportional(let name, let reference):
      try requirePositiveFinite(reference, "proportional(\(name)).reference")
    case .categorical(let name, let factor):
      try requirePositiveFinite(factor, "categorical(\(name)).factor")
    case .exponential(let name, let reference, let coefficient):
      try requireFinite(reference, "exponential(\(name)).reference")
      try requireFinite(coefficient, "exponential(\(name)).coefficient")
    }
  }
}

/// A population model of one PK parameter:
/// value = max(lowerBound, typicalValue x product of effect factors x exp(eta)).
public struct ParameterModel: Codable, Sendable, Equatable {
  /// The value for a reference patient, in the parameter's unit, > 0.
  public var typicalValue: Double
  /// Covariate effects, multiplied together.
  public var effects: [CovariateEffect]
  /// Position of this parameter's eta in the population's
  /// `LogNormalVariability`; nil for no between-subject variability.
  public var etaIndex: Int?
  /// Floor applied last, in the parameter's unit; nil for none. Use it for
  /// linear effects that can reach zero (a clearance floor, for example).
  public var lowerBound: Double?

  /// Creates a parameter model.
  public init(
    typicalValue: Double, effects: [CovariateEffect] = [], etaIndex: Int? = nil,
    lowerBound: Double? = nil
  ) {
    self.typicalValue = typicalValue
    self.effects = effects
    self.etaIndex = etaIndex
    self.lowerBound = lowerBound
  }

  /// Checks the typical value, the bound and every effect.
  public func validate() throws(PharmacokineticError) {
    try requirePositiveFinite(typicalValue, "typicalValue")
    if let bound = lowerBound { try requirePositiveFinite(bound, "lowerBound") }
    for effect in effects { try effect.validate() }
  }

  /// Returns the value before the lower bound is applied.
  /// - Throws: `PharmacokineticError` when a covariate is missing or the
  ///   result is not finite (for example a power effect of a zero value).
  public func unboundedValue(covariates: [String: Double], eta: Double = 0)
    throws(PharmacokineticError) -> Double
  {
    var value = typicalValue * exp(eta)
    for effect in effects {
      guard let covariate = covariates[effect.covariate] else {
        throw PharmacokineticError(
          parameter: "covariates", value: "no '\(effect.covariate)'",
          requirement:
            "expected a value for every covariate the model reads; have"
            + " \(covariates.keys.sorted())")
      }
      value *= effect.factor(covariateValue: covariate)
    }
    guard value.isFinite else {
      throw PharmacokineticError(
        parameter: "parameter value", value: "\(value) for covariates \(covariates)",
        requirement: "expected a finite value; check the covariates against the effects")
    }
    return value
  }

  /// Returns max(lowerBound, unbounded value) for one patient.
  public func value(covariates: [String: Double], eta: Double = 0)
    throws(PharmacokineticError) -> Double
  {
    let unbounded = try unboundedValue(covariates: covariates, eta: eta)
    guard let bound = lowerBound else { return unbounded }
    return max(bound, unbounded)
  }

  /// Returns the value for each patient of a columnar covariate table.
  /// - Parameters:
  ///   - covariates: one column per covariate name, all `patientCount` long.
  ///   - etas: one eta per patient, or nil for typical patients.
  public func values(covariates: [String: [Double]], etas: [Double]? = nil)
    throws(PharmacokineticError) -> [Double]
  {
    let patientCount = covariates.values.first?.count ?? etas?.count ?? 0
    if let etas, etas.count != patientCount {
      throw PharmacokineticError(
        parameter: "etas", value: "\(etas.count) entries",
        requirement: "expected one eta per patient (\(patientCount))")
    }
    var result = [Double](repeating: 0, count: patientCount)
    for patient in 0..<patientCount {
      var row: [String: Double] = [:]
      for (name, column) in covariates {
        guard column.count == patientCount else {
          throw PharmacokineticError(
            parameter: "covariates[\(name)]", value: "\(column.count) rows",
            requirement: "expected \(patientCount) rows like the other columns")
        }
        row[name] = column[patient]
      }
      result[patient] = try value(covariates: row, eta: etas?[patient] ?? 0)
    }
    return result
  }
}

func requireFinite(_ value: Double, _ name: String) throws(PharmacokineticError) {
  guard value.isFinite else {
    throw PharmacokineticError(
      parameter: name, value: "\(value)", requirement: "expected a finite value")
  }
}
