import Foundation
import TitratePKPD
import TitrateRandom

/// One site's patient population: the PK model that is true there and the
/// distributions its patients' covariates are drawn from. Covariates are
/// drawn independently of each other.
public struct SitePopulationDefinition: Codable, Sendable, Equatable {
  /// Free text: the kind of ward and where the distributions come from.
  public var description: String
  /// Key of the true PK model in the definition's `models`.
  public var model: String
  /// One distribution per sampled covariate.
  public var covariates: CovariateDistributions
  /// Fraction of the population treated in intensive care, 0-1; nil is 0.
  /// No PK model here uses it. It is the care setting, which a prescriber
  /// has at hand, and the policy reads it as observation entry
  /// `intensiveCare`. It is drawn per patient after the parameters, and
  /// only when strictly between 0 and 1.
  public var intensiveCareFraction: Double?
  /// Error of every level measured at this site (its assay and sampling),
  /// in place of the true model's published residual error, which also
  /// includes that model's misfit. The site's MAP estimate uses it as its
  /// error model too. Nil keeps the model's residual error.
  public var measurementError: ResidualErrorDefinition?
}

/// Wide covariate distributions for edge patients. Their covariates reach
/// the edges of what a site may meet (renal failure, extreme weight, the
/// oldest and youngest adults). Training draws a fraction of each site's
/// patients from them in place of the site's own distributions, and the
/// site keeps its true PK model, care-setting fraction and measurement
/// error. This is domain randomisation: evaluation draws from the site
/// populations alone.
public struct EdgeCovariatesDefinition: Codable, Sendable, Equatable {
  /// Free text: why these ranges.
  public var description: String
  /// The distributions, drawn in the same order as a population's.
  public var covariates: CovariateDistributions

  public init(description: String, covariates: CovariateDistributions) {
    self.description = description
    self.covariates = covariates
  }
}

/// The distributions of the sampled covariates of one population.
public struct CovariateDistributions: Codable, Sendable, Equatable {
  /// Age in years.
  public var ageYears: CovariateDistribution
  /// Total body weight in kg.
  public var weightKilograms: CovariateDistribution
  /// Female indicator (0 or 1).
  public var female: CovariateDistribution
  /// Serum creatinine in mg/dL.
  public var serumCreatinineMilligramsPerDeciliter: CovariateDistribution
  /// Intermittent haemodialysis indicator (0 or 1).
  public var haemodialysis: CovariateDistribution
  /// Distribution of serum creatinine in mg/dL for patients drawn on
  /// haemodialysis, in place of `serumCreatinineMilligramsPerDeciliter`.
  /// Nil draws it the same way for everyone. It is drawn after the dialysis
  /// indicator and only for patients on dialysis, so others keep their streams.
  public var serumCreatinineOnHaemodialysis: CovariateDistribution?

  /// The distributions with the covariate each one samples, in a fixed order
  /// (the order in which a patient's covariates are drawn).
  public var ordered: [(CovariateName, CovariateDistribution)] {
    [
      (.ageYears, ageYears), (.weightKilograms, weightKilograms), (.female, female),
      (.serumCreatinineMilligramsPerDeciliter, serumCreatinineMilligramsPerDeciliter),
      (.haemodialysis, haemodialysis),
    ]
  }
}

/// A distribution of one covariate. JSON: an object with `distribution`
/// (normal, logNormal, uniform, bernoulli, categorical) and its fields.
/// Bounds truncate by redrawing (see `CovariateSampler`).
public enum CovariateDistribution: Codable, Sendable, Equatable {
  /// Normal with mean and standard deviation, truncated to [minimum, maximum].
  case normal(mean: Double, standardDeviation: Double, minimum: Double, maximum: Double)
  /// Log-normal with median and CV (CV of the variable itself, so
  /// sigma^2 = ln(1 + CV^2)), truncated to [minimum, maximum].
  case logNormal(median: Double, coefficientOfVariation: Double, minimum: Double, maximum: Double)
  /// Uniform on [minimum, maximum].
  case uniform(minimum: Double, maximum: Double)
  /// 1 with `probability`, else 0.
  case bernoulli(probability: Double)
  /// One of `values` with the matching `probabilities` (summing to 1).
  case categorical(values: [Double], probabilities: [Double])

  enum Kind: String, CaseIterable {
    case normal, logNormal, uniform, bernoulli, categorical
  }

  private enum CodingKeys: String, CodingKey {
    case distribution, mean, standardDeviation, median, coefficientOfVariation
    case minimum, maximum, probability, values, probabilities
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let kindText = try container.decode(String.self, forKey: .distribution)
    guard let kind = Kind(rawValue: kindText) else {
      throw unknownKeyword(
        kindText, allowed: Kind.allCases.map(\.rawValue),
        path: jsonPath(decoder.codingPath + [CodingKeys.distribution]))
    }
    func number(_ key: CodingKeys) throws -> Double {
      try container.decode(Double.self, forKey: key)
    }
    switch kind {
    case .normal:
      self = .normal(
        mean: try number(.mean), standardDeviation: try number(.standardDeviation),
        minimum: try number(.minimum), maximum: try number(.maximum))
    case .logNormal:
      self = .logNormal(
        median: try number(.median),
        coefficientOfVariation: try number(.coefficientOfVariation),
        minimum: try number(.minimum), maximum: try number(.maximum))
    case .uniform:
      self = .uniform(minimum: try number(.minimum), maximum: try number(.maximum))
    case .bernoulli:
      self = .bernoulli(probability: try number(.probability))
    case .categorical:
      self = .categorical(
        values: try container.decode([Double].self, forKey: .values),
        probabilities: try container.decode([Double].self, forKey: .probabilities))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .normal(let mean, let standardDeviation, let minimum, let maximum):
      try container.encode(Kind.normal.rawValue, forKey: .distribution)
      try container.encode(mean, forKey: .mean)
      try container.encode(standardDeviation, forKey: .standardDeviation)
      try container.encode(minimum, forKey: .minimum)
      try container.encode(maximum, forKey: .maximum)
    case .logNormal(let median, let coefficientOfVariation, let minimum, let maximum):
      try container.encode(Kind.logNormal.rawValue, forKey: .distribution)
      try container.encode(median, forKey: .median)
      try container.encode(coefficientOfVariation, forKey: .coefficientOfVariation)
      try container.encode(minimum, forKey: .minimum)
      try container.encode(maximum, forKey: .maximum)
    case .uniform(let minimum, let maximum):
      try container.encode(Kind.uniform.rawValue, forKey: .distribution)
      try container.encode(minimum, forKey: .minimum)
      try container.encode(maximum, forKey: .maximum)
    case .bernoulli(let probability):
      try container.encode(Kind.bernoulli.rawValue, forKey: .distribution)
      try container.encode(probability, forKey: .probability)
    case .categorical(let values, let probabilities):
      try container.encode(Kind.categorical.rawValue, forKey: .distribution)
      try container.encode(values, forKey: .values)
      try container.encode(probabilities, forKey: .probabilities)
    }
  }
}

extension CovariateDistribution {
  /// Draws one value with the PK core's sampler, which defines truncation
  /// by redrawing and the log-normal CV convention. Every environment
  /// samples its covariates through it.
  func sample(using generator: inout Xoshiro256) -> Double {
    let equivalent: TitratePKPD.CovariateDistribution
    switch self {
    case .normal(let mean, let standardDeviation, let minimum, let maximum):
      equivalent = .normal(
        mean: mean, standardDeviation: standardDeviation, lowerBound: minimum,
        upperBound: maximum)
    case .logNormal(let median, let coefficientOfVariation, let minimum, let maximum):
      equivalent = .logNormal(
        median: median, coefficientOfVariation: coefficientOfVariation, lowerBound: minimum,
        upperBound: maximum)
    case .uniform(let minimum, let maximum):
      equivalent = .uniform(lowerBound: minimum, upperBound: maximum)
    case .bernoulli(let probability):
      equivalent = .bernoulli(probability: probability)
    case .categorical(let values, let probabilities):
      equivalent = .categorical(values: values, probabilities: probabilities)
    }
    return equivalent.sample(using: &generator)
  }
}
