import Foundation

/// A normal distribution truncated to [minimum, maximum] (draws outside
/// are redrawn).
public struct TruncatedNormalDefinition: Codable, Sendable, Equatable {
  /// Mean, in the covariate's unit.
  public var mean: Double
  /// Standard deviation, > 0.
  public var standardDeviation: Double
  /// Smallest value drawn.
  public var minimum: Double
  /// Largest value drawn.
  public var maximum: Double

  /// Checks the values against the physiological range [low, high].
  func validate(
    path: String, low: Double, high: Double, unit: String, _ issues: inout IssueCollector
  ) {
    issues.requireRange(mean, jsonPath(path, "mean"), low, high, unit: unit)
    issues.requireRange(
      standardDeviation, jsonPath(path, "standardDeviation"), 0, high - low, unit: unit,
      lowOpen: true)
    issues.requireRange(minimum, jsonPath(path, "minimum"), low, high, unit: unit)
    issues.requireRange(maximum, jsonPath(path, "maximum"), low, high, unit: unit)
    if minimum.isFinite, maximum.isFinite, !(minimum < mean && mean < maximum) {
      issues.add(
        path,
        "has minimum \(format(minimum)) and maximum \(format(maximum)) \(unit) around mean "
          + "\(format(mean)); the mean must lie strictly between them. Widen the bounds.")
    }
  }
}

/// Covariates and genotype frequencies of the virtual patients.
public struct WarfarinPopulationDefinition: Codable, Sendable, Equatable {
  /// Age, years, within [18, 110].
  public var ageYears: TruncatedNormalDefinition
  /// Total body weight, kg, within [30, 300].
  public var weightKilograms: TruncatedNormalDefinition
  /// Height, cm, within [120, 230].
  public var heightCentimeters: TruncatedNormalDefinition
  /// Probability that a patient is female, [0, 1].
  public var femaleProbability: Double
  /// CYP2C9 diplotype frequencies; the six values sum to 1.
  public var cyp2c9Frequencies: [String: Double]
  /// VKORC1 -1639 genotype frequencies; the three values sum to 1.
  public var vkorc1Frequencies: [String: Double]
  /// Key of the entry in `sources` the frequencies come from.
  public var genotypeSource: String

  func validate(path: String, _ issues: inout IssueCollector) {
    ageYears.validate(path: jsonPath(path, "ageYears"), low: 18, high: 110, unit: "years", &issues)
    weightKilograms.validate(
      path: jsonPath(path, "weightKilograms"), low: 30, high: 300, unit: "kg", &issues)
    heightCentimeters.validate(
      path: jsonPath(path, "heightCentimeters"), low: 120, high: 230, unit: "cm", &issues)
    issues.requireRange(femaleProbability, jsonPath(path, "femaleProbability"), 0, 1, unit: "")
    validateFrequencies(
      cyp2c9Frequencies, CYP2C9Genotype.self, path: jsonPath(path, "cyp2c9Frequencies"), &issues)
    validateFrequencies(
      vkorc1Frequencies, VKORC1Genotype.self, path: jsonPath(path, "vkorc1Frequencies"), &issues)
    if genotypeSource.isEmpty {
      issues.add(
        jsonPath(path, "genotypeSource"), "is empty. Name the cohort the frequencies come from.")
    }
  }

  private func validateFrequencies<Genotype: RawRepresentable & CaseIterable>(
    _ table: [String: Double], _ type: Genotype.Type, path: String,
    _ issues: inout IssueCollector
  ) where Genotype.RawValue == String {
    validateGenotypeKeys(table, type, path: path, &issues)
    for (key, value) in table.sorted(by: { $0.key < $1.key }) {
      issues.requireRange(value, jsonPath(path, key), 0, 1, unit: "(probability)")
    }
    let total = table.values.reduce(0, +)
    if abs(total - 1) > 1e-6 {
      issues.add(
        path,
        "sums to \(String(format: "%.6g", total)), but frequencies must sum to 1 (within 1e-6). "
          + "Rescale them.")
    }
  }
}

/// Daily dose levels, episode length and integration step.
public struct WarfarinDosingDefinition: Codable, Sendable, Equatable {
  /// Tablet step of the daily racemic dose, mg, in [0.1, 5]; the dose
  /// levels are 0, step, 2 step, ..., maximum.
  public var doseStepMilligrams: Double
  /// Largest daily racemic dose, mg, a whole number of steps, (0, 30].
  public var maximumDailyDoseMilligrams: Double
  /// Days per episode (one decision a day), 7-365.
  public var episodeDays: Int
  /// RK4 step, h, in (0, 1]; 24 h must be a whole number of steps.
  public var integrationStepHours: Double

  /// Number of discrete dose levels (0 mg included).
  public var doseLevelCount: Int {
    Int((maximumDailyDoseMilligrams / doseStepMilligrams).rounded()) + 1
  }

  /// RK4 steps per day.
  public var stepsPerDay: Int { Int((24 / integrationStepHours).rounded()) }

  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(
      doseStepMilligrams, jsonPath(path, "doseStepMilligrams"), 0.1, 5, unit: "mg")
    issues.requireRange(
      maximumDailyDoseMilligrams, jsonPath(path, "maximumDailyDoseMilligrams"), 0, 30,
      unit: "mg", lowOpen: true)
    if doseStepMilligrams > 0, maximumDailyDoseMilligrams > 0 {
      let steps = maximumDailyDoseMilligrams / doseStepMilligrams
      if abs(steps - steps.rounded()) > 1e-9 {
        issues.add(
          jsonPath(path, "maximumDailyDoseMilligrams"),
          "is \(format(maximumDailyDoseMilligrams)) mg, which is not a whole number of "
            + "\(format(doseStepMilligrams)) mg steps. Round it to a multiple of the step.")
      }
    }
    if !(7...365).contains(episodeDays) {
      issues.add(
        jsonPath(path, "episodeDays"),
        "is \(episodeDays), but must be in [7, 365] days. "
          + "Set a length in that range.")
    }
    issues.requireRange(
      integrationStepHours, jsonPath(path, "integrationStepHours"), 0, 1, unit: "h",
      lowOpen: true, fix: "Use a step such as 0.5 h (see the step-size study in the docs).")
    if integrationStepHours > 0 {
      let steps = 24 / integrationStepHours
      if abs(steps - steps.rounded()) > 1e-9 {
        issues.add(
          jsonPath(path, "integrationStepHours"),
          "is \(format(integrationStepHours)) h, which does not divide 24 h. "
            + "Use 1, 0.5, 0.25 or another divisor of 24 h.")
      }
    }
  }
}

/// When the INR is measured and how it is reported.
public struct WarfarinMeasurementDefinition: Codable, Sendable, Equatable {
  /// Therapy days (day 1 = the first dose) with an INR drawn in the
  /// morning, before that day's dose; strictly increasing, within
  /// [1, episodeDays].
  public var inrDays: [Int]
  /// Reported INRs are rounded to this step (0.1 as laboratories report);
  /// 0 keeps full precision. Range [0, 0.5].
  public var reportingResolution: Double

  func validate(path: String, episodeDays: Int, _ issues: inout IssueCollector) {
    if inrDays.isEmpty {
      issues.add(jsonPath(path, "inrDays"), "is empty. List at least one measurement day.")
    }
    for (index, day) in inrDays.enumerated() {
      let itemPath = "\(jsonPath(path, "inrDays"))[\(index)]"
      if !(1...max(episodeDays, 1)).contains(day) {
        issues.add(
          itemPath,
          "is day \(day), but must be in [1, \(episodeDays)] (the episode's days). "
            + "Remove it or lengthen the episode.")
      }
      if index > 0, day <= inrDays[index - 1] {
        issues.add(
          itemPath,
          "is day \(day), not after the previous day \(inrDays[index - 1]). "
            + "List the days in increasing order without repeats.")
      }
    }
    issues.requireRange(
      reportingResolution, jsonPath(path, "reportingResolution"), 0, 0.5, unit: "(INR)")
  }
}

/// Target range, bleeding threshold and reward weights.
public struct WarfarinRewardDefinition: Codable, Sendable, Equatable {
  /// Lower end of the target INR range (2).
  public var targetLowerINR: Double
  /// Upper end of the target INR range (3).
  public var targetUpperINR: Double
  /// INR above which bleeding risk is counted as a cost (4).
  public var bleedingThresholdINR: Double
  /// Reward per day spent entirely in range; a day earns this times its
  /// fraction of time in range. Range [0, 100].
  public var inRangeRewardPerDay: Double
  /// Penalty per day spent entirely above the bleeding threshold,
  /// subtracted from the reward. Range [0, 100].
  public var aboveBleedingThresholdPenaltyPerDay: Double

  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(targetLowerINR, jsonPath(path, "targetLowerINR"), 1, 5, unit: "")
    issues.requireRange(targetUpperINR, jsonPath(path, "targetUpperINR"), 1, 6, unit: "")
    issues.requireRange(
      bleedingThresholdINR, jsonPath(path, "bleedingThresholdINR"), 1, 10, unit: "")
    if !(targetLowerINR < targetUpperINR && targetUpperINR <= bleedingThresholdINR) {
      issues.add(
        path,
        "has target range \(format(targetLowerINR))-\(format(targetUpperINR)) and bleeding "
          + "threshold \(format(bleedingThresholdINR)); they must satisfy lower < upper <= "
          + "threshold. Reorder the values.")
    }
    issues.requireRange(
      inRangeRewardPerDay, jsonPath(path, "inRangeRewardPerDay"), 0, 100, unit: "")
    issues.requireRange(
      aboveBleedingThresholdPenaltyPerDay, jsonPath(path, "aboveBleedingThresholdPenaltyPerDay"),
      0, 100, unit: "")
  }
}
