import Foundation

extension CovariateDistributions {
  /// Range every value of a covariate must lie in (bounds of continuous
  /// distributions, values of discrete ones): adult patients only, since
  /// the models and the Cockcroft-Gault equation are for adults.
  static func physiologicalRange(of covariate: CovariateName) -> (Double, Double, String) {
    switch covariate {
    case .ageYears: return (18, 110, "years")
    case .weightKilograms: return (30, 300, "kg")
    case .serumCreatinineMilligramsPerDeciliter: return (0.1, 20, "mg/dL")
    case .female, .haemodialysis: return (0, 1, "(indicator)")
    case .creatinineClearanceMillilitersPerMinute: return (0, 400, "mL/min")
    }
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    for (covariate, distribution) in ordered {
      let itemPath = "\(path).\(covariate.rawValue)"
      let (low, high, unit) = Self.physiologicalRange(of: covariate)
      let isIndicator = covariate == .female || covariate == .haemodialysis
      distribution.validate(
        path: itemPath, low: low, high: high, unit: unit, indicator: isIndicator, &issues)
    }
    if let onDialysis = serumCreatinineOnHaemodialysis {
      let (low, high, unit) = Self.physiologicalRange(of: .serumCreatinineMilligramsPerDeciliter)
      onDialysis.validate(
        path: "\(path).serumCreatinineOnHaemodialysis", low: low, high: high, unit: unit,
        indicator: false, &issues)
    }
  }
}

extension CovariateDistribution {
  func validate(
    path: String, low: Double, high: Double, unit: String, indicator: Bool,
    _ issues: inout IssueCollector
  ) {
    switch self {
    case .normal, .logNormal, .uniform:
      if indicator {
        issues.add(
          "\(path).distribution",
          "is continuous, but this covariate is an indicator (0 or 1). "
            + "Use \"bernoulli\" with a probability.")
        return
      }
    case .bernoulli, .categorical:
      break
    }
    switch self {
    case .normal(let mean, let standardDeviation, let minimum, let maximum):
      issues.requireRange(mean, "\(path).mean", low, high, unit: unit)
      issues.requireRange(
        standardDeviation, "\(path).standardDeviation", 0, high - low, unit: unit, lowOpen: true)
      validateBounds(path: path, minimum, maximum, low: low, high: high, unit: unit, &issues)
      // The probability mass between reversed bounds would be negative, so
      // only the bounds' own issue is reported for them.
      if minimum < maximum, standardDeviation > 0 {
        let mass =
          standardNormalCDF((maximum - mean) / standardDeviation)
          - standardNormalCDF((minimum - mean) / standardDeviation)
        requireMass(mass, path: path, &issues)
      }
    case .logNormal(let median, let coefficientOfVariation, let minimum, let maximum):
      issues.requireRange(median, "\(path).median", low, high, unit: unit)
      issues.requireRange(
        coefficientOfVariation, "\(path).coefficientOfVariation", 0, 3,
        unit: "(fraction: 0.3 means 30 %)", lowOpen: true)
      validateBounds(path: path, minimum, maximum, low: low, high: high, unit: unit, &issues)
      if median > 0, minimum > 0, minimum < maximum, coefficientOfVariation > 0 {
        let sigma = Foundation.log(1 + coefficientOfVariation * coefficientOfVariation)
          .squareRoot()
        let mass =
          standardNormalCDF(Foundation.log(maximum / median) / sigma)
          - standardNormalCDF(Foundation.log(minimum / median) / sigma)
        requireMass(mass, path: path, &issues)
      }
    case .uniform(let minimum, let maximum):
      validateBounds(path: path, minimum, maximum, low: low, high: high, unit: unit, &issues)
    case .bernoulli(let probability):
      issues.requireRange(probability, "\(path).probability", 0, 1, unit: "")
      if !indicator {
        issues.add(
          "\(path).distribution",
          "is \"bernoulli\" (values 0 and 1), but this covariate is continuous. "
            + "Use normal, logNormal, uniform or categorical.")
      }
    case .categorical(let values, let probabilities):
      if values.isEmpty || values.count != probabilities.count {
        issues.add(
          "\(path).probabilities",
          "has \(probabilities.count) entries for \(values.count) values. "
            + "Give one probability per value (at least one value).")
      }
      for (index, value) in values.enumerated() {
        issues.requireRange(value, "\(path).values[\(index)]", low, high, unit: unit)
        if indicator && value != 0 && value != 1 {
          issues.add(
            "\(path).values[\(index)]", "is \(format(value)), but an indicator takes 0 or 1.")
        }
      }
      for (index, probability) in probabilities.enumerated() {
        issues.requireRange(probability, "\(path).probabilities[\(index)]", 0, 1, unit: "")
      }
      let total = probabilities.reduce(0, +)
      if abs(total - 1) > 1e-6 {
        issues.add(
          "\(path).probabilities",
          "sum to \(total), but must sum to 1. Rescale them.")
      }
    }
  }

  private func validateBounds(
    path: String, _ minimum: Double, _ maximum: Double, low: Double, high: Double,
    unit: String, _ issues: inout IssueCollector
  ) {
    issues.requireRange(minimum, "\(path).minimum", low, high, unit: unit)
    issues.requireRange(
      maximum, "\(path).maximum", minimum, high, unit: unit, lowOpen: true,
      fix: "The maximum must exceed the minimum and stay within the physiological range.")
  }

  private func requireMass(_ mass: Double, path: String, _ issues: inout IssueCollector) {
    if !(mass >= 0.01) {
      issues.add(
        "\(path).minimum",
        "and `maximum` keep \(String(format: "%.2g", mass * 100)) % of the distribution, "
          + "below the 1 % needed for truncation by redrawing. Widen the bounds or move "
          + "the centre between them.")
    }
  }
}

/// Standard normal cumulative distribution function.
func standardNormalCDF(_ x: Double) -> Double {
  0.5 * Foundation.erfc(-x / 2.0.squareRoot())
}
