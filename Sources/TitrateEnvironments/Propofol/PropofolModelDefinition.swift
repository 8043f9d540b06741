import Foundation

/// Constants of the Schnider 1998 propofol model with the Schnider 1999
/// ke0, as deviations from reference covariates:
/// V2 = V2ref + a (age - ageRef); CL1 = CL1ref + w (W - Wref) + l (LBM -
/// LBMref) + h (H - Href); CL2 = CL2ref + c (age - ageRef).
/// Defaults in `Environments/pkpd/propofol.json` are the published values.
public struct PropofolModelDefinition: Codable, Sendable, Equatable {
  /// Formula for the lean body mass in CL1.
  public var leanBodyMassFormula: LeanBodyMassFormula
  /// Reference age, years (53).
  public var referenceAgeYears: Double
  /// Reference weight, kg (77).
  public var referenceWeightKilograms: Double
  /// Reference height, cm (177).
  public var referenceHeightCentimeters: Double
  /// Reference lean body mass, kg (59).
  public var referenceLeanBodyMassKilograms: Double
  /// V1, L (4.27).
  public var centralVolumeLiters: Double
  /// V2 at the reference age, L (18.9).
  public var fastPeripheralVolumeLiters: Double
  /// Change of V2 per year of age, L/year (-0.391).
  public var fastPeripheralVolumeLitersPerYear: Double
  /// V3, L (238).
  public var slowPeripheralVolumeLiters: Double
  /// CL1 at the reference covariates, L/min (1.89).
  public var clearanceLitersPerMinute: Double
  /// Change of CL1 per kg of weight, L/min/kg (0.0456).
  public var clearanceLitersPerMinutePerKilogramWeight: Double
  /// Change of CL1 per kg of lean body mass, L/min/kg (-0.0681).
  public var clearanceLitersPerMinutePerKilogramLeanBodyMass: Double
  /// Change of CL1 per cm of height, L/min/cm (0.0264).
  public var clearanceLitersPerMinutePerCentimeterHeight: Double
  /// CL2 at the reference age, L/min (1.29).
  public var fastIntercompartmentalClearanceLitersPerMinute: Double
  /// Change of CL2 per year of age, L/min/year (-0.024).
  public var fastIntercompartmentalClearanceLitersPerMinutePerYear: Double
  /// CL3, L/min (0.836).
  public var slowIntercompartmentalClearanceLitersPerMinute: Double
  /// ke0, 1/min (0.456, Schnider 1999).
  public var effectSiteRatePerMinute: Double

  /// Returns the typical (no random effects) parameters for a patient.
  /// Returns nil when a volume or clearance comes out at or below zero
  /// (V2 at ages above about 101 years, CL2 above about 106 years).
  public func parameters(
    ageYears age: Double, weightKilograms weight: Double, heightCentimeters height: Double,
    isFemale: Bool
  ) -> PropofolPharmacokineticParameters? {
    let lbm = leanBodyMassFormula.leanBodyMassKilograms(
      weightKilograms: weight, heightCentimeters: height, isFemale: isFemale)
    let result = PropofolPharmacokineticParameters(
      leanBodyMassKilograms: lbm,
      centralVolumeLiters: centralVolumeLiters,
      fastPeripheralVolumeLiters: fastPeripheralVolumeLiters
        + fastPeripheralVolumeLitersPerYear * (age - referenceAgeYears),
      slowPeripheralVolumeLiters: slowPeripheralVolumeLiters,
      clearanceLitersPerMinute: clearanceLitersPerMinute
        + clearanceLitersPerMinutePerKilogramWeight * (weight - referenceWeightKilograms)
        + clearanceLitersPerMinutePerKilogramLeanBodyMass * (lbm - referenceLeanBodyMassKilograms)
        + clearanceLitersPerMinutePerCentimeterHeight * (height - referenceHeightCentimeters),
      fastIntercompartmentalClearanceLitersPerMinute:
        fastIntercompartmentalClearanceLitersPerMinute
        + fastIntercompartmentalClearanceLitersPerMinutePerYear * (age - referenceAgeYears),
      slowIntercompartmentalClearanceLitersPerMinute:
        slowIntercompartmentalClearanceLitersPerMinute,
      effectSiteRatePerMinute: effectSiteRatePerMinute)
    let positives = [
      result.fastPeripheralVolumeLiters, result.clearanceLitersPerMinute,
      result.fastIntercompartmentalClearanceLitersPerMinute,
    ]
    return positives.allSatisfy({ $0 > 0 && $0.isFinite }) ? result : nil
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    let positive: [(String, Double)] = [
      ("referenceAgeYears", referenceAgeYears),
      ("referenceWeightKilograms", referenceWeightKilograms),
      ("referenceHeightCentimeters", referenceHeightCentimeters),
      ("referenceLeanBodyMassKilograms", referenceLeanBodyMassKilograms),
      ("centralVolumeLiters", centralVolumeLiters),
      ("fastPeripheralVolumeLiters", fastPeripheralVolumeLiters),
      ("slowPeripheralVolumeLiters", slowPeripheralVolumeLiters),
      ("clearanceLitersPerMinute", clearanceLitersPerMinute),
      (
        "fastIntercompartmentalClearanceLitersPerMinute",
        fastIntercompartmentalClearanceLitersPerMinute
      ),
      (
        "slowIntercompartmentalClearanceLitersPerMinute",
        slowIntercompartmentalClearanceLitersPerMinute
      ),
      ("effectSiteRatePerMinute", effectSiteRatePerMinute),
    ]
    for (name, value) in positive {
      issues.requireRange(
        value, jsonPath(path, name), 0, 1000, unit: "", lowOpen: true,
        fix: "Use the published value (see Docs/environments/propofol.md).")
    }
    let slopes: [(String, Double)] = [
      ("fastPeripheralVolumeLitersPerYear", fastPeripheralVolumeLitersPerYear),
      ("clearanceLitersPerMinutePerKilogramWeight", clearanceLitersPerMinutePerKilogramWeight),
      (
        "clearanceLitersPerMinutePerKilogramLeanBodyMass",
        clearanceLitersPerMinutePerKilogramLeanBodyMass
      ),
      ("clearanceLitersPerMinutePerCentimeterHeight", clearanceLitersPerMinutePerCentimeterHeight),
      (
        "fastIntercompartmentalClearanceLitersPerMinutePerYear",
        fastIntercompartmentalClearanceLitersPerMinutePerYear
      ),
    ]
    for (name, value) in slopes {
      issues.requireRange(
        value, jsonPath(path, name), -1, 1, unit: "",
        fix: "Use the published covariate slope (see Docs/environments/propofol.md).")
    }
  }
}

/// Log-normal between-subject variability: each listed quantity is
/// multiplied by exp(eta), eta ~ N(0, ln(1 + CV^2)). 0 turns one off.
public struct PropofolVariabilityDefinition: Codable, Sendable, Equatable {
  /// CV of CL1, fraction, [0, 3].
  public var clearance: Double
  /// CV of V2, fraction.
  public var fastPeripheralVolume: Double
  /// CV of V3, fraction.
  public var slowPeripheralVolume: Double
  /// CV of ke0, fraction.
  public var effectSiteRate: Double
  /// CV of Ce50, fraction.
  public var ce50: Double
  /// CV of the Hill coefficient, fraction.
  public var hillCoefficient: Double

  /// The CVs by field name, in the order the etas are drawn.
  var coefficients: [(String, Double)] {
    [
      ("clearance", clearance), ("fastPeripheralVolume", fastPeripheralVolume),
      ("slowPeripheralVolume", slowPeripheralVolume), ("effectSiteRate", effectSiteRate),
      ("ce50", ce50), ("hillCoefficient", hillCoefficient),
    ]
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    for (name, value) in coefficients {
      issues.requireRange(
        value, jsonPath(path, name), 0, 3, unit: "(fraction: 0.3 means 30 %)",
        fix: "Give the CV as a fraction, or 0 for no variability.")
    }
  }
}

extension SigmoidEmaxBIS {
  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(baseline, jsonPath(path, "baseline"), 50, 100, unit: "", lowOpen: true)
    issues.requireRange(
      maximumEffect, jsonPath(path, "maximumEffect"), 0, max(baseline, 0), unit: "",
      lowOpen: true, fix: "Set it above 0 and at most the baseline, so BIS stays >= 0.")
    issues.requireRange(
      ce50MilligramsPerLiter, jsonPath(path, "ce50MilligramsPerLiter"), 0, 50, unit: "mg/L",
      lowOpen: true)
    issues.requireRange(
      hillCoefficient, jsonPath(path, "hillCoefficient"), 0, 10, unit: "", lowOpen: true)
  }
}
