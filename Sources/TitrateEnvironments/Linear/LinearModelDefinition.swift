import Foundation
import TitratePKPD

/// The administration route of a linear-kind drug.
public enum AdministrationRoute: String, Codable, Sendable, CaseIterable {
  /// Instantaneous intravenous dose into the central compartment.
  case intravenousBolus
  /// Zero-order intravenous infusion over `dosing.infusionHours`.
  case intravenousInfusion
  /// Extravascular dose into a depot emptied by first-order absorption
  /// (rate constant ka); the amount absorbed is dose x bioavailability.
  case oral

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }
}

/// The population PK model of a linear-kind environment: a 1-, 2- or
/// 3-compartment mammillary model with optional first-order absorption,
/// covariate effects, log-normal between-subject variability (BSV) and a
/// combined residual error.
///
/// Individual value of each parameter: typical value x (weight when the
/// unit is per kg) x product of covariate effects, floored at
/// `typicalValueFloor`, then x exp(eta) with eta ~ N(0, omega^2).
public struct LinearModelDefinition: Codable, Sendable, Equatable {
  /// Key of the model's paper in the definition's `sources` list.
  public var source: String
  /// Number of compartments: 1, 2 or 3.
  public var compartments: Int
  /// The administration route.
  public var route: AdministrationRoute
  /// Fraction of an oral dose that reaches the central compartment, in
  /// (0, 1]; must be 1 for intravenous routes. Set it to 1 when the model
  /// reports apparent values (CL/F, V/F).
  public var bioavailability: Double
  /// The parameter models.
  public var parameters: LinearParameterModels
  /// Correlations between the etas of two parameters (names as in
  /// `LinearParameterModels.named`).
  public var correlations: [LinearParameterCorrelation]
  /// Preprocessing of the Cockcroft-Gault creatinine clearance covariate.
  public var creatinineClearance: CreatinineClearanceRule
  /// Residual error of a measured level.
  public var residualError: ResidualErrorDefinition
  /// Free text: choices made where sources disagree.
  public var note: String?

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(source, forKey: .source)
    try container.encode(compartments, forKey: .compartments)
    try container.encode(route, forKey: .route)
    try container.encode(bioavailability, forKey: .bioavailability)
    try container.encode(parameters, forKey: .parameters)
    try container.encode(correlations, forKey: .correlations)
    try container.encode(creatinineClearance, forKey: .creatinineClearance)
    try container.encode(residualError, forKey: .residualError)
    try container.encode(note, forKey: .note)
  }
}

/// The parameter models of a linear-kind model.
public struct LinearParameterModels: Codable, Sendable, Equatable {
  /// CL in L/h.
  public var clearance: ParameterModelDefinition
  /// V1 in L or L/kg.
  public var centralVolume: ParameterModelDefinition
  /// Q2 (and Q3) in L/h: compartments - 1 entries.
  public var intercompartmentalClearances: [ParameterModelDefinition]
  /// V2 (and V3) in L or L/kg: compartments - 1 entries.
  public var peripheralVolumes: [ParameterModelDefinition]
  /// ka in 1/h for the oral route; null for intravenous routes.
  public var absorptionRate: ParameterModelDefinition?

  /// The parameter models with their names, in eta order: clearance,
  /// centralVolume, intercompartmentalClearances[i], peripheralVolumes[i],
  /// absorptionRate.
  public var named: [(name: String, model: ParameterModelDefinition)] {
    var list = [("clearance", clearance), ("centralVolume", centralVolume)]
    for (index, model) in intercompartmentalClearances.enumerated() {
      list.append(("intercompartmentalClearances[\(index)]", model))
    }
    for (index, model) in peripheralVolumes.enumerated() {
      list.append(("peripheralVolumes[\(index)]", model))
    }
    if let absorptionRate { list.append(("absorptionRate", absorptionRate)) }
    return list
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(clearance, forKey: .clearance)
    try container.encode(centralVolume, forKey: .centralVolume)
    try container.encode(intercompartmentalClearances, forKey: .intercompartmentalClearances)
    try container.encode(peripheralVolumes, forKey: .peripheralVolumes)
    try container.encode(absorptionRate, forKey: .absorptionRate)
  }
}

/// Correlation between the etas of two parameters of a linear-kind model.
public struct LinearParameterCorrelation: Codable, Sendable, Equatable {
  /// One parameter name (`clearance`, `peripheralVolumes[0]`, ...).
  public var first: String
  /// The other parameter name, different from `first`.
  public var second: String
  /// Pearson correlation of the two etas, in (-1, 1).
  public var coefficient: Double
}

extension LinearModelDefinition {
  /// Builds the between-subject variability of the parameters in `named`
  /// order (omega^2 = 0 for a parameter without variability).
  /// - Precondition: the model is validated.
  func variability() -> LogNormalVariability {
    let names = parameters.named.map(\.name)
    let pairs = correlations.compactMap { correlation -> EtaCorrelation? in
      guard let first = names.firstIndex(of: correlation.first),
        let second = names.firstIndex(of: correlation.second)
      else { return nil }
      return EtaCorrelation(first: first, second: second, coefficient: correlation.coefficient)
    }
    do {
      return try LogNormalVariability(
        omegaSquared: parameters.named.map { $0.model.variability?.omegaSquared ?? 0 },
        correlations: pairs)
    } catch {
      preconditionFailure("validated variability was rejected: \(error)")
    }
  }

  /// Returns one patient's parameters for the given covariates and etas
  /// (one per entry of `parameters.named`; zeros give the typical patient).
  func individualParameters(covariates: LinearCovariates, etas: [Double])
    -> CompartmentalParameters
  {
    let values = parameters.named.enumerated().map { index, entry in
      var typical = entry.model.typicalValue
      if entry.model.isPerKilogram { typical *= covariates.weightKilograms }
      for effect in entry.model.covariateEffects {
        typical *= effect.factor(covariates.value(of: effect.covariate))
      }
      if let floor = entry.model.typicalValueFloor { typical = max(typical, floor) }
      return typical * Foundation.exp(etas[index])
    }
    let peripheralCount = compartments - 1
    return CompartmentalParameters(
      clearanceLitersPerHour: values[0], centralVolumeLiters: values[1],
      intercompartmentalClearancesLitersPerHour: Array(values[2..<(2 + peripheralCount)]),
      peripheralVolumesLiters: Array(values[(2 + peripheralCount)..<(2 + 2 * peripheralCount)]),
      absorptionRatePerHour: parameters.absorptionRate == nil ? nil : values.last)
  }

  func validate(path: String, sourceKeys: [String], _ issues: inout IssueCollector) {
    if !sourceKeys.contains(source) {
      issues.add(
        "\(path).source",
        "is \"\(source)\", which is not a key of `sources`. Use one of: "
          + sourceKeys.joined(separator: ", ") + ".")
    }
    validateStructure(path: path, &issues)

    let parametersPath = "\(path).parameters"
    parameters.clearance.validate(
      path: "\(parametersPath).clearance", parameter: .clearance, &issues)
    parameters.centralVolume.validate(
      path: "\(parametersPath).centralVolume", parameter: .centralVolume, &issues)
    for (index, model) in parameters.intercompartmentalClearances.enumerated() {
      model.validate(
        path: "\(parametersPath).intercompartmentalClearances[\(index)]",
        parameter: .intercompartmentalClearance, &issues)
    }
    for (index, model) in parameters.peripheralVolumes.enumerated() {
      model.validate(
        path: "\(parametersPath).peripheralVolumes[\(index)]", parameter: .peripheralVolume,
        &issues)
    }
    if let absorption = parameters.absorptionRate {
      absorption.validateAbsorptionRate(path: "\(parametersPath).absorptionRate", &issues)
    }

    validateCorrelations(path: path, &issues)
    issues.requireRange(
      residualError.additiveMilligramsPerLiter,
      "\(path).residualError.additiveMilligramsPerLiter", 0, 50, unit: "mg/L")
    issues.requireRange(
      residualError.proportional, "\(path).residualError.proportional", 0, 1,
      unit: "(fraction: 0.2 means 20 %)")
    creatinineClearance.validate(path: "\(path).creatinineClearance", &issues)
  }

  private func validateStructure(path: String, _ issues: inout IssueCollector) {
    if !(1...3).contains(compartments) {
      issues.add(
        "\(path).compartments",
        "is \(compartments), but must be 1, 2 or 3. Use the model's number of compartments.")
    } else {
      let expected = compartments - 1
      for (key, count) in [
        ("intercompartmentalClearances", parameters.intercompartmentalClearances.count),
        ("peripheralVolumes", parameters.peripheralVolumes.count),
      ] where count != expected {
        issues.add(
          "\(path).parameters.\(key)",
          "has \(count) entries, but a \(compartments)-compartment model needs \(expected). "
            + "List one per peripheral compartment or change `compartments`.")
      }
    }
    let isOral = route == .oral
    if isOral != (parameters.absorptionRate != nil) {
      issues.add(
        "\(path).parameters.absorptionRate",
        isOral
          ? "is null, but the oral route needs an absorption rate. Add it in 1/h."
          : "is set, but the \(route.rawValue) route has no depot. Write null or use \"oral\".")
    }
    if isOral {
      issues.requireRange(
        bioavailability, "\(path).bioavailability", 0, 1, unit: "(fraction)", lowOpen: true)
    } else if bioavailability != 1 {
      issues.add(
        "\(path).bioavailability",
        "is \(format(bioavailability)), but an intravenous dose is fully available. Set it to 1.")
    }
  }

  private func validateCorrelations(path: String, _ issues: inout IssueCollector) {
    let named = Dictionary(uniqueKeysWithValues: parameters.named.map { ($0.name, $0.model) })
    let names = parameters.named.map(\.name)
    let issueCountBefore = issues.issues.count
    var seen: Set<[String]> = []
    for (index, correlation) in correlations.enumerated() {
      let itemPath = "\(path).correlations[\(index)]"
      for (role, name) in [("first", correlation.first), ("second", correlation.second)] {
        guard let model = named[name] else {
          issues.add(
            "\(itemPath).\(role)",
            "is \"\(name)\", which is not a parameter of this model. Use one of: "
              + names.joined(separator: ", ") + ".")
          continue
        }
        if model.variability == nil {
          issues.add(
            "\(itemPath).\(role)",
            "is \"\(name)\", which has no between-subject variability. "
              + "Correlate only parameters with `variability`.")
        }
      }
      if correlation.first == correlation.second {
        issues.add(
          "\(itemPath).second",
          "is \"\(correlation.second)\", the same as `first`. Correlate two different parameters.")
      }
      let pair = [correlation.first, correlation.second].sorted()
      if !seen.insert(pair).inserted {
        issues.add("\(itemPath)", "repeats an earlier pair. Keep one entry per pair.")
      }
      issues.requireRange(
        correlation.coefficient, "\(itemPath).coefficient", -0.99, 0.99, unit: "")
    }
    // Pairs that are each valid can still contradict each other.
    guard issues.issues.count == issueCountBefore else { return }
    issues.requireConsistentCorrelations(
      correlations.map {
        (
          first: names.firstIndex(of: $0.first)!, second: names.firstIndex(of: $0.second)!,
          coefficient: $0.coefficient
        )
      }, parameterCount: names.count, path: "\(path).correlations")
  }
}

extension ParameterModelDefinition {
  /// Checks an absorption rate constant: unit `1/h`, value in (0, 100].
  func validateAbsorptionRate(path: String, _ issues: inout IssueCollector) {
    if unit != "1/h" {
      issues.add(
        "\(path).unit", "is \"\(unit)\", but an absorption rate takes \"1/h\". Convert the value.")
    }
    issues.requireRange(typicalValue, "\(path).typicalValue", 0, 100, unit: "1/h", lowOpen: true)
    for (index, effect) in covariateEffects.enumerated() {
      effect.validate(path: "\(path).covariateEffects[\(index)]", &issues)
    }
    if let floor = typicalValueFloor {
      issues.requireRange(floor, "\(path).typicalValueFloor", 0, 100, unit: "1/h", lowOpen: true)
    }
    if let variability {
      let limit = variability.scale == .coefficientOfVariation ? 3.0 : 2.5
      issues.requireRange(
        variability.value, "\(path).variability.value", 0, limit, unit: "", lowOpen: true,
        fix: "Use a positive value; write null for no variability.")
    }
  }
}
