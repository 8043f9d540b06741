/// The `safety` section: exposure thresholds that a policy must respect in
/// evaluation and verification, and the optional predictive shield.
///
/// Hard limits live in `actuatorLimits` (single dose, dose per 24 h) and
/// `dosing` (infusion rate, shortest infusion, the fixed decision
/// interval), and the actuator enforces them for every policy.
public struct SafetyDefinition: Codable, Sendable, Equatable {
  /// Exposure outcomes whose rate among patients is bounded.
  public var exposureThresholds: [ExposureThreshold]
  /// Predictive shield settings; nil when the environment offers none.
  public var shield: ShieldDefinition?

  public init(exposureThresholds: [ExposureThreshold], shield: ShieldDefinition?) {
    self.exposureThresholds = exposureThresholds
    self.shield = shield
  }

  public func encode(to encoder: any Encoder) throws {
    // Written by hand so that an absent shield is written as null, as the
    // unknown-key check expects.
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(exposureThresholds, forKey: .exposureThresholds)
    try container.encode(shield, forKey: .shield)
  }
}

/// One exposure threshold: a 0/1 outcome of the environment's per-patient
/// table and the largest acceptable fraction of patients with outcome 1.
public struct ExposureThreshold: Codable, Sendable, Equatable {
  /// Short name used in reports (`toxicTrough`).
  public var name: String
  /// Indicator column of the outcome table (`anyTroughAboveLimit`).
  public var outcome: String
  /// Clinical meaning of crossing the threshold, with its source.
  public var description: String
  /// Largest acceptable fraction of patients, in [0, 1].
  public var maximumRate: Double
  /// Largest acceptable fraction in stress cohorts, whose covariates lie
  /// at or beyond the edges of the sites' populations (renal failure,
  /// extreme weight or age), in [0, 1]; nil applies `maximumRate` there
  /// too. Optional in the file.
  public var maximumRateInStressCohorts: Double?

  public init(
    name: String, outcome: String, description: String, maximumRate: Double,
    maximumRateInStressCohorts: Double? = nil
  ) {
    self.name = name
    self.outcome = outcome
    self.description = description
    self.maximumRate = maximumRate
    self.maximumRateInStressCohorts = maximumRateInStressCohorts
  }

  /// The limit for stress cohorts: `maximumRateInStressCohorts`, or
  /// `maximumRate` when that is nil.
  public var stressLimit: Double { maximumRateInStressCohorts ?? maximumRate }
}

/// Thresholds of the predictive shield. Before a dose is given, the shield
/// predicts exposure from the MAP estimate of the patient's parameters:
/// the `bayesianEstimate` section's prior conditioned on the levels
/// measured so far. A dose whose prediction crosses a threshold is replaced
/// with the largest dose level that does not.
public struct ShieldDefinition: Codable, Sendable, Equatable {
  /// Largest predicted concentration just before the next decision, mg/L.
  public var maximumPredictedTroughMilligramsPerLiter: Double
  /// Largest predicted AUC over the next 24 h if the dose is repeated at
  /// the next decision, mg h/L.
  public var maximumPredictedAUC24MilligramHoursPerLiter: Double
  /// Posterior standard deviations, z in [0, 4], by which the shield's
  /// parameters move towards higher exposure before predicting. With 0 or
  /// nil the shield predicts with the MAP estimate itself. With z = 1.645 a
  /// dose passes only when its prediction is below the threshold at the
  /// one-sided 95 % point of the linearised Laplace posterior. Optional in
  /// the file.
  public var predictionStandardDeviations: Double?

  public init(
    maximumPredictedTroughMilligramsPerLiter: Double,
    maximumPredictedAUC24MilligramHoursPerLiter: Double,
    predictionStandardDeviations: Double? = nil
  ) {
    self.maximumPredictedTroughMilligramsPerLiter = maximumPredictedTroughMilligramsPerLiter
    self.maximumPredictedAUC24MilligramHoursPerLiter = maximumPredictedAUC24MilligramHoursPerLiter
    self.predictionStandardDeviations = predictionStandardDeviations
  }
}

extension EnvironmentDefinition {
  /// Checks rates, names and the shield's needs.
  func validateSafety(_ issues: inout IssueCollector) {
    guard let safety else { return }
    var seen = Set<String>()
    for (index, threshold) in safety.exposureThresholds.enumerated() {
      let path = "safety.exposureThresholds[\(index)]"
      issues.requireRange(threshold.maximumRate, "\(path).maximumRate", 0, 1, unit: "")
      if let stress = threshold.maximumRateInStressCohorts {
        issues.requireRange(stress, "\(path).maximumRateInStressCohorts", 0, 1, unit: "")
      }
      let known = VancomycinEnvironment.exposureIndicatorOutcomes
      if !known.contains(threshold.outcome) {
        issues.add(
          "\(path).outcome",
          unknownKeyword(threshold.outcome, allowed: known, path: "").message)
      }
      if threshold.name.isEmpty {
        issues.add("\(path).name", "is empty. Give the threshold a short name.")
      } else if !seen.insert(threshold.name).inserted {
        issues.add(
          "\(path).name", "is \"\(threshold.name)\", used twice. Give each threshold its own name.")
      }
    }
    guard let shield = safety.shield else { return }
    issues.requireRange(
      shield.maximumPredictedTroughMilligramsPerLiter,
      "safety.shield.maximumPredictedTroughMilligramsPerLiter", 0, 200, unit: "mg/L",
      lowOpen: true)
    issues.requireRange(
      shield.maximumPredictedAUC24MilligramHoursPerLiter,
      "safety.shield.maximumPredictedAUC24MilligramHoursPerLiter", 0, 10_000, unit: "mg h/L",
      lowOpen: true)
    if let z = shield.predictionStandardDeviations {
      issues.requireRange(z, "safety.shield.predictionStandardDeviations", 0, 4, unit: "")
    }
    if bayesianEstimate == nil {
      issues.add(
        "safety.shield",
        "needs the bayesianEstimate section, whose MAP estimates it predicts exposure with. "
          + "Add \"bayesianEstimate\": {\"priorModel\": ...} or set the shield to null.")
    }
  }
}
