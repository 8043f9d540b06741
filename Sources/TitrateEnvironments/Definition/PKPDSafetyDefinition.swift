/// The `safety` section of a warfarin, propofol or glucose definition:
/// exposure thresholds that `titrate verify` measures on site and stress
/// cohorts. The hard limits of these environments are their actuators'
/// bounds (the dosing, pump and episode sections), which every policy
/// passes through.
public struct PKPDSafetyDefinition: Codable, Sendable, Equatable {
  /// Exposure outcomes whose rate among patients is bounded.
  public var exposureThresholds: [PKPDExposureThreshold]

  public init(exposureThresholds: [PKPDExposureThreshold]) {
    self.exposureThresholds = exposureThresholds
  }

  /// Adds an issue for every invalid threshold.
  /// - Parameter outcomes: the outcome table columns of the environment.
  func validate(path: String, outcomes: [String], _ issues: inout IssueCollector) {
    if exposureThresholds.isEmpty {
      issues.add(
        "\(path).exposureThresholds",
        "is empty. Give at least one threshold, or leave out the safety section.")
    }
    var seen = Set<String>()
    for (index, threshold) in exposureThresholds.enumerated() {
      threshold.validate(path: "\(path).exposureThresholds[\(index)]", outcomes: outcomes, &issues)
      if !threshold.name.isEmpty && !seen.insert(threshold.name).inserted {
        issues.add(
          "\(path).exposureThresholds[\(index)].name",
          "is \"\(threshold.name)\", used twice. Give each threshold its own name.")
      }
    }
  }
}

/// One exposure threshold on a time-fraction outcome: a patient counts as
/// exposed when the outcome (a fraction of the episode, such as the time
/// with INR above 4) exceeds `maximumTimeFractionPerPatient`, and the
/// fraction of exposed patients must stay at or below `maximumRate`.
public struct PKPDExposureThreshold: Codable, Sendable, Equatable {
  /// Short name used in reports (`inrAbove4`).
  public var name: String
  /// Column of the environment's outcome table, a fraction in [0, 1]
  /// (`timeAboveBleedingThresholdTrueDaily`).
  public var outcome: String
  /// Clinical meaning of the threshold, with its source.
  public var description: String
  /// Largest outcome value of a patient who does not count as exposed, in
  /// [0, 1); 0 counts any time above the threshold.
  public var maximumTimeFractionPerPatient: Double
  /// Largest acceptable fraction of exposed patients, in [0, 1].
  public var maximumRate: Double
  /// Largest acceptable fraction in stress cohorts (covariates at or
  /// beyond the population's edges), in [0, 1]; nil applies
  /// `maximumRate` there too. Optional in the file.
  public var maximumRateInStressCohorts: Double?

  public init(
    name: String, outcome: String, description: String, maximumTimeFractionPerPatient: Double,
    maximumRate: Double, maximumRateInStressCohorts: Double? = nil
  ) {
    self.name = name
    self.outcome = outcome
    self.description = description
    self.maximumTimeFractionPerPatient = maximumTimeFractionPerPatient
    self.maximumRate = maximumRate
    self.maximumRateInStressCohorts = maximumRateInStressCohorts
  }

  /// The limit for stress cohorts: `maximumRateInStressCohorts`, or
  /// `maximumRate` when that is nil.
  public var stressLimit: Double { maximumRateInStressCohorts ?? maximumRate }

  /// Returns true when a patient's outcome value counts as exposed. A NaN
  /// value counts as exposed, so a missing measurement cannot pass.
  public func isExposed(_ outcomeValue: Double) -> Bool {
    !(outcomeValue <= maximumTimeFractionPerPatient)
  }

  /// The time-fraction columns (`time...`), or every column when none is
  /// named so (the linear kind's per-cycle fractions).
  private func suggestedOutcomes(_ outcomes: [String]) -> [String] {
    let timeFractions = outcomes.filter { $0.hasPrefix("time") }
    return timeFractions.isEmpty ? outcomes : timeFractions
  }

  func validate(path: String, outcomes: [String], _ issues: inout IssueCollector) {
    if name.isEmpty { issues.add("\(path).name", "is empty. Give the threshold a short name.") }
    if !outcomes.contains(outcome) {
      issues.add(
        "\(path).outcome",
        "is \"\(outcome)\", which the environment does not record. Use one of: "
          + suggestedOutcomes(outcomes).joined(separator: ", "))
    }
    if !(maximumTimeFractionPerPatient >= 0 && maximumTimeFractionPerPatient < 1) {
      issues.add(
        "\(path).maximumTimeFractionPerPatient",
        "is \(maximumTimeFractionPerPatient). Use a fraction in [0, 1).")
    }
    issues.requireRange(maximumRate, "\(path).maximumRate", 0, 1, unit: "")
    if let stress = maximumRateInStressCohorts {
      issues.requireRange(stress, "\(path).maximumRateInStressCohorts", 0, 1, unit: "")
    }
  }
}
