import Foundation

/// The exposure measure a dosing cycle is scored on.
public enum ExposureTargetKind: String, Codable, Sendable, CaseIterable {
  /// Peak concentration / MIC. The score rises linearly from 0 at `lower`
  /// to 1 at `upper` and stays 1 above, because killing is
  /// concentration-dependent. Toxicity is scored through the trough and
  /// the cumulative AUC instead.
  case peakToMICRatio
  /// Peak concentration in mg/L: score 1 inside [lower, upper], else 0.
  case peakMilligramsPerLiter
  /// AUC of the cycle scaled to 24 h (cycle AUC x 24 / interval), mg*h/L:
  /// score 1 inside [lower, upper], else 0.
  case dailyAUCMilligramHoursPerLiter

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }
}

/// The exposure window of a dosing cycle.
public struct ExposureTarget: Codable, Sendable, Equatable {
  /// The measure.
  public var kind: ExposureTargetKind
  /// Lower end, in the measure's unit, > 0.
  public var lower: Double
  /// Upper end, in the measure's unit, above `lower`.
  public var upper: Double

  /// Returns the score in [0, 1] of one cycle's measure value.
  public func score(_ value: Double) -> Double {
    switch kind {
    case .peakToMICRatio:
      return min(max((value - lower) / (upper - lower), 0), 1)
    case .peakMilligramsPerLiter, .dailyAUCMilligramHoursPerLiter:
      return value >= lower && value <= upper ? 1 : 0
    }
  }
}

/// Therapeutic targets of a linear-kind environment.
public struct LinearTargetDefinition: Codable, Sendable, Equatable {
  /// Minimum inhibitory concentration of the assumed pathogen, mg/L; needed
  /// by the `peakToMICRatio` target, null otherwise.
  public var minimumInhibitoryConcentrationMilligramsPerLiter: Double?
  /// The exposure window each cycle is scored on.
  public var exposure: ExposureTarget
  /// The trough (level just before the next dose) should stay below this,
  /// mg/L; null for no trough target.
  public var troughCeilingMilligramsPerLiter: Double?

  /// Returns the value of the exposure measure of one cycle.
  /// - Parameters:
  ///   - peak: maximum concentration of the cycle on the grid, mg/L.
  ///   - cycleAUC: AUC over the cycle, mg*h/L.
  ///   - intervalHours: the cycle's length, h.
  public func exposureValue(peak: Double, cycleAUC: Double, intervalHours: Double) -> Double {
    switch exposure.kind {
    case .peakToMICRatio: return peak / (minimumInhibitoryConcentrationMilligramsPerLiter ?? 1)
    case .peakMilligramsPerLiter: return peak
    case .dailyAUCMilligramHoursPerLiter: return cycleAUC * 24 / intervalHours
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(
      minimumInhibitoryConcentrationMilligramsPerLiter,
      forKey: .minimumInhibitoryConcentrationMilligramsPerLiter)
    try container.encode(exposure, forKey: .exposure)
    try container.encode(troughCeilingMilligramsPerLiter, forKey: .troughCeilingMilligramsPerLiter)
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    let micPath = "\(path).minimumInhibitoryConcentrationMilligramsPerLiter"
    if let mic = minimumInhibitoryConcentrationMilligramsPerLiter {
      issues.requireRange(mic, micPath, 0, 1000, unit: "mg/L", lowOpen: true)
    } else if exposure.kind == .peakToMICRatio {
      issues.add(micPath, "is null, but the peakToMICRatio target needs it. Set the MIC in mg/L.")
    }
    let limit = exposure.kind == .peakToMICRatio ? 1000.0 : 100_000.0
    issues.requireRange(exposure.lower, "\(path).exposure.lower", 0, limit, unit: "", lowOpen: true)
    issues.requireRange(
      exposure.upper, "\(path).exposure.upper", exposure.lower, limit, unit: "", lowOpen: true,
      fix: "The upper end must exceed the lower end.")
    if let ceiling = troughCeilingMilligramsPerLiter {
      issues.requireRange(
        ceiling, "\(path).troughCeilingMilligramsPerLiter", 0, 1000, unit: "mg/L", lowOpen: true)
    }
  }
}

/// Safety limits of a linear-kind environment: what counts as toxic, and
/// the dose actuator's cap.
public struct LinearSafetyDefinition: Codable, Sendable, Equatable {
  /// A trough at or above this is toxic and costs 1, mg/L.
  public var toxicTroughMilligramsPerLiter: Double
  /// Each cycle that ends with the episode's cumulative AUC above this
  /// costs 1, mg*h/L.
  public var cumulativeAUCLimitMilligramHoursPerLiter: Double
  /// The actuator delivers at most this per dose, mg; larger requests are
  /// clamped and counted.
  public var maximumDoseMilligrams: Double
  /// Bounds on the fraction of patients whose `toxicTrough` or
  /// `cumulativeAUCAboveLimit` outcome passes a per-patient fraction, which
  /// `titrate verify` checks on site and stress cohorts. Optional in the
  /// file; verify needs them from this file or another definition.
  public var exposureThresholds: [PKPDExposureThreshold]?

  func validate(path: String, cycles: Int, _ issues: inout IssueCollector) {
    issues.requireRange(
      toxicTroughMilligramsPerLiter, "\(path).toxicTroughMilligramsPerLiter", 0, 1000,
      unit: "mg/L", lowOpen: true)
    issues.requireRange(
      cumulativeAUCLimitMilligramHoursPerLiter, "\(path).cumulativeAUCLimitMilligramHoursPerLiter",
      0, 1e7, unit: "mg*h/L", lowOpen: true)
    issues.requireRange(
      maximumDoseMilligrams, "\(path).maximumDoseMilligrams", 0, 100_000, unit: "mg",
      lowOpen: true)
    if let exposureThresholds {
      PKPDSafetyDefinition(exposureThresholds: exposureThresholds).validate(
        path: path, outcomes: LinearEnvironment.outcomeColumnNames(cycles: max(cycles, 1)),
        &issues)
    }
  }
}

/// Reward per decision: exposureWeight x exposure score + troughWeight x
/// (trough below the ceiling) - toxicityWeight x cost, where the cost is
/// (toxic trough) + (cumulative AUC above the limit), each 0 or 1.
public struct LinearRewardDefinition: Codable, Sendable, Equatable {
  /// Weight of the exposure score, >= 0.
  public var exposureWeight: Double
  /// Weight of meeting the trough ceiling, >= 0 (ignored without one).
  public var troughWeight: Double
  /// Weight of the safety cost, >= 0.
  public var toxicityWeight: Double

  func validate(path: String, _ issues: inout IssueCollector) {
    for (key, value) in [
      ("exposureWeight", exposureWeight), ("troughWeight", troughWeight),
      ("toxicityWeight", toxicityWeight),
    ] {
      issues.requireRange(value, "\(path).\(key)", 0, 100, unit: "")
    }
  }
}
