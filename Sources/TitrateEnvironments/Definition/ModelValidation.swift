import Foundation
import TitratePKPD

extension PopulationModelDefinition {
  func validate(path: String, sourceKeys: [String], _ issues: inout IssueCollector) {
    if !sourceKeys.contains(source) {
      issues.add(
        "\(path).source",
        "is \"\(source)\", which is not a key of `sources`. Use one of: "
          + sourceKeys.joined(separator: ", ") + ".")
    }
    let twoCompartment = compartments == 2
    if compartments != 1 && compartments != 2 {
      issues.add("\(path).compartments", "is \(compartments), but must be 1 or 2.")
    } else {
      let peripheralPresent =
        (parameters.intercompartmentalClearance != nil, parameters.peripheralVolume != nil)
      let expected = twoCompartment ? "present" : "absent (null)"
      if peripheralPresent.0 != twoCompartment {
        issues.add(
          "\(path).parameters.intercompartmentalClearance",
          "must be \(expected) for a \(compartments)-compartment model. "
            + "Add or remove it, or change `compartments`.")
      }
      if peripheralPresent.1 != twoCompartment {
        issues.add(
          "\(path).parameters.peripheralVolume",
          "must be \(expected) for a \(compartments)-compartment model. "
            + "Add or remove it, or change `compartments`.")
      }
    }
    for (name, model) in parameters.present {
      model.validate(path: "\(path).parameters.\(name.rawValue)", parameter: name, &issues)
    }
    validateCorrelations(path: path, &issues)
    residualError.validate(path: "\(path).residualError", &issues)
    creatinineClearance.validate(path: "\(path).creatinineClearance", &issues)
  }

  private func validateCorrelations(path: String, _ issues: inout IssueCollector) {
    let present = Dictionary(uniqueKeysWithValues: parameters.present.map { ($0.0, $0.1) })
    let issueCountBefore = issues.issues.count
    for (index, correlation) in correlations.enumerated() {
      let itemPath = "\(path).correlations[\(index)]"
      if correlation.first == correlation.second {
        issues.add(
          "\(itemPath).second",
          "is \"\(correlation.second.rawValue)\", the same as `first`. "
            + "Correlate two different parameters.")
      }
      for (role, name) in [("first", correlation.first), ("second", correlation.second)] {
        if present[name]?.variability == nil {
          issues.add(
            "\(itemPath).\(role)",
            "is \"\(name.rawValue)\", which has no between-subject variability in this model. "
              + "Correlate only parameters with `variability`.")
        }
      }
      issues.requireRange(
        correlation.coefficient, "\(itemPath).coefficient", -0.99, 0.99, unit: "")
    }
    // Pairs that are each valid can still contradict each other.
    guard issues.issues.count == issueCountBefore else { return }
    let names = parameters.present.map(\.0)
    issues.requireConsistentCorrelations(
      correlations.map {
        (
          first: names.firstIndex(of: $0.first)!, second: names.firstIndex(of: $0.second)!,
          coefficient: $0.coefficient
        )
      }, parameterCount: names.count, path: "\(path).correlations")
  }
}

extension IssueCollector {
  /// Adds an issue at `path` when the correlations, each valid on its own,
  /// do not form a positive-definite correlation matrix together (CL-V1
  /// 0.9, CL-Q 0.9 and V1-Q -0.9, for example) or list a pair twice.
  /// Sampling such a model would fail.
  mutating func requireConsistentCorrelations(
    _ correlations: [(first: Int, second: Int, coefficient: Double)], parameterCount: Int,
    path: String
  ) {
    do {
      _ = try LogNormalVariability(
        omegaSquared: Array(repeating: 1, count: parameterCount),
        correlations: correlations.map {
          EtaCorrelation(first: $0.first, second: $0.second, coefficient: $0.coefficient)
        })
    } catch {
      add(
        path,
        "do not form a valid correlation matrix together (\(error.requirement)). Two "
          + "parameters that both correlate strongly with a third cannot be strongly "
          + "anti-correlated with each other.")
    }
  }
}

extension ParameterModelDefinition {
  func validate(
    path: String, parameter: PharmacokineticParameterName, _ issues: inout IssueCollector
  ) {
    let isVolume = parameter == .centralVolume || parameter == .peripheralVolume
    let allowedUnits = isVolume ? ["L", "L/kg"] : ["L/h"]
    if !allowedUnits.contains(unit) {
      issues.add(
        "\(path).unit",
        "is \"\(unit)\", but \(parameter.rawValue) takes "
          + allowedUnits.map { "\"\($0)\"" }.joined(separator: " or ") + ". Convert the value.")
    }
    issues.requireRange(typicalValue, "\(path).typicalValue", 0, 1000, unit: unit, lowOpen: true)
    var canReachZero = false
    for (index, effect) in covariateEffects.enumerated() {
      let effectPath = "\(path).covariateEffects[\(index)]"
      effect.validate(path: effectPath, &issues)
      if case .linear = effect { canReachZero = true }
    }
    if canReachZero && typicalValueFloor == nil {
      issues.add(
        "\(path).typicalValueFloor",
        "is null, but a linear covariate effect can make \(parameter.rawValue) zero or "
          + "negative. Set a positive floor (e.g. 0.3 L/h for a clearance).")
    }
    if let floor = typicalValueFloor {
      issues.requireRange(floor, "\(path).typicalValueFloor", 0, 1000, unit: "", lowOpen: true)
    }
    if let variability {
      let limit = variability.scale == .coefficientOfVariation ? 3.0 : 2.5
      let unitText =
        variability.scale == .coefficientOfVariation
        ? "(CV as a fraction: 0.4 means 40 %)" : "(omega squared)"
      issues.requireRange(
        variability.value, "\(path).variability.value", 0, limit, unit: unitText, lowOpen: true,
        fix: "Use a positive value; write null for no variability.")
    }
  }
}

extension CovariateEffectDefinition {
  func validate(path: String, _ issues: inout IssueCollector) {
    switch self {
    case .power(_, let reference, let exponent):
      issues.requireRange(reference, "\(path).reference", 0, 1e6, unit: "", lowOpen: true)
      issues.requireRange(exponent, "\(path).exponent", -5, 5, unit: "")
    case .linear(_, let reference, let slope):
      issues.requireRange(reference, "\(path).reference", -1e6, 1e6, unit: "")
      issues.requireRange(slope, "\(path).slope", -10, 10, unit: "")
    case .proportional(_, let reference):
      issues.requireRange(reference, "\(path).reference", 0, 1e6, unit: "", lowOpen: true)
    case .categorical(let covariate, let factor):
      issues.requireRange(factor, "\(path).factor", 0, 100, unit: "", lowOpen: true)
      if covariate != .female && covariate != .haemodialysis {
        issues.add(
          "\(path).covariate",
          "is \"\(covariate.rawValue)\", which is not an indicator. A categorical effect "
            + "needs female or haemodialysis.")
      }
    case .exponential(_, let reference, let coefficient):
      issues.requireRange(reference, "\(path).reference", -1e6, 1e6, unit: "")
      issues.requireRange(coefficient, "\(path).coefficient", -10, 10, unit: "")
    }
  }
}

extension CreatinineClearanceRule {
  func validate(path: String, _ issues: inout IssueCollector) {
    if let maximum = maximumMillilitersPerMinute {
      issues.requireRange(
        maximum, "\(path).maximumMillilitersPerMinute", 0, 400, unit: "mL/min", lowOpen: true)
    }
    if let minimum = minimumMillilitersPerMinute {
      issues.requireRange(
        minimum, "\(path).minimumMillilitersPerMinute", 0,
        maximumMillilitersPerMinute ?? 400, unit: "mL/min",
        fix: "Use a floor below the cap.")
    }
    if let floor = serumCreatinineFloorMilligramsPerDeciliter {
      issues.requireRange(
        floor, "\(path).serumCreatinineFloorMilligramsPerDeciliter", 0, 5, unit: "mg/dL",
        lowOpen: true)
    }
    if let age = serumCreatinineFloorAboveAgeYears {
      issues.requireRange(age, "\(path).serumCreatinineFloorAboveAgeYears", 0, 120, unit: "years")
    }
  }
}

extension ResidualErrorDefinition {
  /// Checks both standard deviations: additive 0-50 mg/L, proportional 0-1.
  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(
      additiveMilligramsPerLiter, "\(path).additiveMilligramsPerLiter", 0, 50, unit: "mg/L")
    issues.requireRange(
      proportional, "\(path).proportional", 0, 1, unit: "(fraction: 0.2 means 20 %)")
  }

  /// The error model of measured levels in the PK core's form.
  var errorModel: ResidualErrorModel {
    ResidualErrorModel(
      additiveMilligramsPerLiter: additiveMilligramsPerLiter, proportionalFraction: proportional)
  }
}
