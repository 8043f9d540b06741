import Foundation
import TitratePKPD

/// Names of the pharmacokinetic parameters a population model defines.
public enum PharmacokineticParameterName: String, Codable, Sendable, CaseIterable {
  /// CL, elimination clearance (L/h).
  case clearance
  /// V1, central volume (L).
  case centralVolume
  /// Q, intercompartmental clearance (L/h); two-compartment models only.
  case intercompartmentalClearance
  /// V2, peripheral volume (L); two-compartment models only.
  case peripheralVolume

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }
}

/// Names of the patient covariates that parameter models and observations
/// use. All but `creatinineClearanceMillilitersPerMinute` are sampled from a
/// site population; creatinine clearance is derived (Cockcroft-Gault).
public enum CovariateName: String, Codable, Sendable, CaseIterable {
  /// Age in years.
  case ageYears
  /// Total body weight in kg.
  case weightKilograms
  /// 1 for female, 0 for male.
  case female
  /// Serum creatinine in mg/dL.
  case serumCreatinineMilligramsPerDeciliter
  /// 1 for a patient on intermittent haemodialysis, else 0.
  case haemodialysis
  /// Cockcroft-Gault creatinine clearance in mL/min after the model's caps
  /// and floors (see `CreatinineClearanceRule`).
  case creatinineClearanceMillilitersPerMinute

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }
}

/// One population PK model: parameter models with covariate effects and
/// between-subject variability (BSV), their correlations, the residual
/// error of measured levels, and how creatinine clearance is computed.
public struct PopulationModelDefinition: Codable, Sendable, Equatable {
  /// Key of the paper in the definition's `sources`.
  public var source: String
  /// 1 (CL, V1) or 2 (CL, V1, Q, V2).
  public var compartments: Int
  /// Preprocessing of the Cockcroft-Gault clearance for this model.
  public var creatinineClearance: CreatinineClearanceRule
  /// The parameter models.
  public var parameters: ParameterModels
  /// Correlations between the BSV random effects (etas) of two parameters.
  public var correlations: [ParameterCorrelation]
  /// Residual error of a measured concentration.
  public var residualError: ResidualErrorDefinition
  /// Free text: choices made where sources disagree.
  public var note: String?

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(source, forKey: .source)
    try container.encode(compartments, forKey: .compartments)
    try container.encode(creatinineClearance, forKey: .creatinineClearance)
    try container.encode(parameters, forKey: .parameters)
    try container.encode(correlations, forKey: .correlations)
    try container.encode(residualError, forKey: .residualError)
    try container.encode(note, forKey: .note)
  }
}

/// The parameter models of one population model, by parameter.
public struct ParameterModels: Codable, Sendable, Equatable {
  /// CL in L/h.
  public var clearance: ParameterModelDefinition
  /// V1 in L (or L/kg, multiplied by weight).
  public var centralVolume: ParameterModelDefinition
  /// Q in L/h; present exactly when the model has two compartments.
  public var intercompartmentalClearance: ParameterModelDefinition?
  /// V2 in L (or L/kg); present exactly when the model has two compartments.
  public var peripheralVolume: ParameterModelDefinition?

  /// The parameter models present, in `PharmacokineticParameterName` order.
  public var present: [(PharmacokineticParameterName, ParameterModelDefinition)] {
    var list: [(PharmacokineticParameterName, ParameterModelDefinition)] = [
      (.clearance, clearance), (.centralVolume, centralVolume),
    ]
    if let model = intercompartmentalClearance {
      list.append((.intercompartmentalClearance, model))
    }
    if let model = peripheralVolume { list.append((.peripheralVolume, model)) }
    return list
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(clearance, forKey: .clearance)
    try container.encode(centralVolume, forKey: .centralVolume)
    try container.encode(intercompartmentalClearance, forKey: .intercompartmentalClearance)
    try container.encode(peripheralVolume, forKey: .peripheralVolume)
  }
}

/// One parameter: individual value = typical value x (weight if the unit is
/// per kg) x product of covariate effects, floored at `typicalValueFloor`,
/// then x exp(eta) with eta ~ N(0, omega^2).
public struct ParameterModelDefinition: Codable, Sendable, Equatable {
  /// Typical value in `unit`, at the reference covariates of the effects.
  public var typicalValue: Double
  /// `L/h` for clearances; `L` or `L/kg` (multiplied by weight) for volumes.
  public var unit: String
  /// Multiplicative covariate effects, applied in order.
  public var covariateEffects: [CovariateEffectDefinition]
  /// Between-subject variability; absent or null means none.
  public var variability: VariabilityDefinition?
  /// Lower bound on the covariate-adjusted typical value (in the parameter's
  /// absolute unit, L/h or L), applied before BSV; null means none.
  public var typicalValueFloor: Double?
  /// Free text: source table, conversions.
  public var note: String?

  /// True when the typical value is per kg of total body weight (`L/kg`).
  public var isPerKilogram: Bool { unit == "L/kg" }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(typicalValue, forKey: .typicalValue)
    try container.encode(unit, forKey: .unit)
    try container.encode(covariateEffects, forKey: .covariateEffects)
    try container.encode(variability, forKey: .variability)
    try container.encode(typicalValueFloor, forKey: .typicalValueFloor)
    try container.encode(note, forKey: .note)
  }
}

/// A multiplicative covariate effect on a parameter (c is the covariate).
/// JSON: an object with `kind` and the fields of that kind.
public enum CovariateEffectDefinition: Codable, Sendable, Equatable {
  /// (c / reference)^exponent.
  case power(covariate: CovariateName, reference: Double, exponent: Double)
  /// 1 + slope (c - reference).
  case linear(covariate: CovariateName, reference: Double, slope: Double)
  /// c / reference.
  case proportional(covariate: CovariateName, reference: Double)
  /// factor^c for an indicator covariate c in {0, 1}.
  case categorical(covariate: CovariateName, factor: Double)
  /// exp(coefficient (c - reference)).
  case exponential(covariate: CovariateName, reference: Double, coefficient: Double)

  /// The covariate the effect reads.
  public var covariate: CovariateName {
    switch self {
    case .power(let c, _, _), .linear(let c, _, _), .proportional(let c, _),
      .categorical(let c, _), .exponential(let c, _, _):
      return c
    }
  }

  /// The same effect in the PK core's form, which defines the maths.
  public var pharmacokineticEffect: CovariateEffect {
    switch self {
    case .power(let covariate, let reference, let exponent):
      return .power(covariate: covariate.rawValue, reference: reference, exponent: exponent)
    case .linear(let covariate, let reference, let slope):
      return .linear(covariate: covariate.rawValue, reference: reference, slope: slope)
    case .proportional(let covariate, let reference):
      return .proportional(covariate: covariate.rawValue, reference: reference)
    case .categorical(let covariate, let factor):
      return .categorical(covariate: covariate.rawValue, factor: factor)
    case .exponential(let covariate, let reference, let coefficient):
      return .exponential(
        covariate: covariate.rawValue, reference: reference, coefficient: coefficient)
    }
  }

  /// Returns the multiplicative factor for covariate value `value`
  /// (indicator covariates are 0 or 1).
  public func factor(_ value: Double) -> Double {
    pharmacokineticEffect.factor(covariateValue: value)
  }

  enum Kind: String, CaseIterable {
    case power, linear, proportional, categorical, exponential
  }

  private enum CodingKeys: String, CodingKey {
    case kind, covariate, reference, exponent, slope, factor, coefficient
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let kindText = try container.decode(String.self, forKey: .kind)
    guard let kind = Kind(rawValue: kindText) else {
      throw unknownKeyword(
        kindText, allowed: Kind.allCases.map(\.rawValue),
        path: jsonPath(decoder.codingPath + [CodingKeys.kind]))
    }
    let covariate = try container.decode(CovariateName.self, forKey: .covariate)
    switch kind {
    case .power:
      self = .power(
        covariate: covariate,
        reference: try container.decode(Double.self, forKey: .reference),
        exponent: try container.decode(Double.self, forKey: .exponent))
    case .linear:
      self = .linear(
        covariate: covariate,
        reference: try container.decode(Double.self, forKey: .reference),
        slope: try container.decode(Double.self, forKey: .slope))
    case .proportional:
      self = .proportional(
        covariate: covariate,
        reference: try container.decode(Double.self, forKey: .reference))
    case .categorical:
      self = .categorical(
        covariate: covariate, factor: try container.decode(Double.self, forKey: .factor))
    case .exponential:
      self = .exponential(
        covariate: covariate,
        reference: try container.decode(Double.self, forKey: .reference),
        coefficient: try container.decode(Double.self, forKey: .coefficient))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(covariate, forKey: .covariate)
    switch self {
    case .power(_, let reference, let exponent):
      try container.encode(Kind.power.rawValue, forKey: .kind)
      try container.encode(reference, forKey: .reference)
      try container.encode(exponent, forKey: .exponent)
    case .linear(_, let reference, let slope):
      try container.encode(Kind.linear.rawValue, forKey: .kind)
      try container.encode(reference, forKey: .reference)
      try container.encode(slope, forKey: .slope)
    case .proportional(_, let reference):
      try container.encode(Kind.proportional.rawValue, forKey: .kind)
      try container.encode(reference, forKey: .reference)
    case .categorical(_, let factor):
      try container.encode(Kind.categorical.rawValue, forKey: .kind)
      try container.encode(factor, forKey: .factor)
    case .exponential(_, let reference, let coefficient):
      try container.encode(Kind.exponential.rawValue, forKey: .kind)
      try container.encode(reference, forKey: .reference)
      try container.encode(coefficient, forKey: .coefficient)
    }
  }
}

/// The scale on which a BSV magnitude is written in the file.
public enum VariabilityScale: String, Codable, Sendable, CaseIterable {
  /// CV of the log-normal parameter (0.398 for 39.8 %); omega^2 = ln(1 + CV^2).
  case coefficientOfVariation
  /// Variance of eta directly (NONMEM's `$OMEGA`).
  case omegaSquared

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }
}

/// Between-subject variability of one parameter: individual = typical x
/// exp(eta), eta ~ N(0, omega^2).
public struct VariabilityDefinition: Codable, Sendable, Equatable {
  /// Scale of `value`: a CV or an omega^2.
  public var scale: VariabilityScale
  /// CV as a fraction, or omega^2, per `scale`; positive.
  public var value: Double

  /// The variance of eta.
  public var omegaSquared: Double {
    switch scale {
    case .coefficientOfVariation: return Foundation.log(1 + value * value)
    case .omegaSquared: return value
    }
  }
}

/// Correlation between the etas of two parameters of the same model.
public struct ParameterCorrelation: Codable, Sendable, Equatable {
  /// One parameter; it must have `variability`.
  public var first: PharmacokineticParameterName
  /// The other parameter, different from `first`, with `variability`.
  public var second: PharmacokineticParameterName
  /// Pearson correlation of the two etas, in (-1, 1).
  public var coefficient: Double
}

/// Residual error of a measured level:
/// observed = C (1 + proportional e1) + additive e2, e1, e2 ~ N(0, 1).
public struct ResidualErrorDefinition: Codable, Sendable, Equatable {
  /// Standard deviation of the additive error in mg/L.
  public var additiveMilligramsPerLiter: Double
  /// Standard deviation of the proportional error as a fraction.
  public var proportional: Double
}

/// Rule by which a model computes creatinine clearance from the Cockcroft-Gault
/// equation (Cockcroft and Gault, Nephron 1976;16:31-41):
/// CrCl = (140 - age) x weight / (72 x SCr) x (0.85 if female), in mL/min.
public struct CreatinineClearanceRule: Codable, Sendable, Equatable {
  /// Upper cap on CrCl in mL/min, or null for none.
  public var maximumMillilitersPerMinute: Double?
  /// Lower floor on CrCl in mL/min, or null for none.
  public var minimumMillilitersPerMinute: Double?
  /// SCr below this (mg/dL) is raised to it before the equation, or null.
  public var serumCreatinineFloorMilligramsPerDeciliter: Double?
  /// The SCr floor applies only above this age (years); null means all ages.
  public var serumCreatinineFloorAboveAgeYears: Double?

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(maximumMillilitersPerMinute, forKey: .maximumMillilitersPerMinute)
    try container.encode(minimumMillilitersPerMinute, forKey: .minimumMillilitersPerMinute)
    try container.encode(
      serumCreatinineFloorMilligramsPerDeciliter,
      forKey: .serumCreatinineFloorMilligramsPerDeciliter)
    try container.encode(
      serumCreatinineFloorAboveAgeYears, forKey: .serumCreatinineFloorAboveAgeYears)
  }
}
