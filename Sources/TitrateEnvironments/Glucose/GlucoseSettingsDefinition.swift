/// Integration step and eating rate of the UVA/Padova model.
public struct GlucoseModelDefinition: Codable, Sendable, Equatable {
  /// RK4 step, min, in (0, 1]; 1 min must be a whole number of steps.
  /// simglucose holds its inputs for 1 min, so steps of 1 min or less see
  /// the same inputs.
  public var integrationStepMinutes: Double
  /// Rate at which an announced meal is eaten, g/min (simglucose: 5).
  public var eatingRateGramsPerMinute: Double

  /// RK4 steps per minute.
  public var stepsPerMinute: Int { Int((1 / integrationStepMinutes).rounded()) }

  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(
      integrationStepMinutes, jsonPath(path, "integrationStepMinutes"), 0, 1, unit: "min",
      lowOpen: true, fix: "Use 1 min (see the step-size study in the docs) or a divisor of it.")
    // A step outside (0, 1] is reported by the range check alone.
    if integrationStepMinutes > 0, integrationStepMinutes <= 1 {
      let steps = 1 / integrationStepMinutes
      if abs(steps - steps.rounded()) > 1e-9 {
        issues.add(
          jsonPath(path, "integrationStepMinutes"),
          "is \(format(integrationStepMinutes)) min, which does not divide 1 min. "
            + "Use 1, 0.5, 0.25 or another divisor.")
      }
    }
    issues.requireRange(
      eatingRateGramsPerMinute, jsonPath(path, "eatingRateGramsPerMinute"), 0, 100,
      unit: "g/min", lowOpen: true)
  }
}

/// The continuous glucose monitor: sampling, Johnson SU noise and the
/// reporting range (Breton M, Kovatchev B, J Diabetes Sci Technol
/// 2008;2:853-862, with simglucose's `sensor_params.csv` values).
public struct GlucoseSensorDefinition: Codable, Sendable, Equatable {
  /// Sensor name in simglucose's table (for the record).
  public var name: String
  /// Minutes between CGM samples; also the decision interval. 1-15, a
  /// divisor of `noiseKnotMinutes`.
  public var sampleMinutes: Int
  /// Whether the noise is added; off gives the true blood glucose,
  /// clipped to the reporting range.
  public var noiseEnabled: Bool
  /// Minutes between the noise knots that are interpolated, 15.
  public var noiseKnotMinutes: Int
  /// Autocorrelation of the standard normal noise between knots, [0, 1).
  public var autocorrelation: Double
  /// Johnson SU parameters: error = xi + lambda sinh((e - gamma) / delta).
  public var johnsonXi: Double
  /// Johnson SU scale lambda, mg/dL, > 0.
  public var johnsonLambda: Double
  /// Johnson SU shape gamma.
  public var johnsonGamma: Double
  /// Johnson SU shape delta, > 0.
  public var johnsonDelta: Double
  /// Lowest reported value, mg/dL.
  public var minimumMilligramsPerDeciliter: Double
  /// Highest reported value, mg/dL.
  public var maximumMilligramsPerDeciliter: Double

  func validate(path: String, _ issues: inout IssueCollector) {
    if !(1...15).contains(sampleMinutes) {
      issues.add(
        jsonPath(path, "sampleMinutes"),
        "is \(sampleMinutes), but must be in [1, 15] min. Use 3 (Dexcom) or 5 (GuardianRT).")
    }
    if !(1...60).contains(noiseKnotMinutes) {
      issues.add(
        jsonPath(path, "noiseKnotMinutes"),
        "is \(noiseKnotMinutes), but must be in [1, 60] min. Use 15 as simglucose does.")
    } else if sampleMinutes >= 1, noiseKnotMinutes % sampleMinutes != 0 {
      issues.add(
        jsonPath(path, "noiseKnotMinutes"),
        "is \(noiseKnotMinutes) min, not a multiple of the \(sampleMinutes)-min sample time. "
          + "Use a multiple of it.")
    }
    issues.requireRange(
      autocorrelation, jsonPath(path, "autocorrelation"), 0, 0.999, unit: "")
    issues.requireRange(johnsonXi, jsonPath(path, "johnsonXi"), -100, 100, unit: "mg/dL")
    issues.requireRange(
      johnsonLambda, jsonPath(path, "johnsonLambda"), 0, 100, unit: "mg/dL", lowOpen: true)
    issues.requireRange(johnsonGamma, jsonPath(path, "johnsonGamma"), -10, 10, unit: "")
    issues.requireRange(johnsonDelta, jsonPath(path, "johnsonDelta"), 0, 10, unit: "", lowOpen: true)
    issues.requireRange(
      minimumMilligramsPerDeciliter, jsonPath(path, "minimumMilligramsPerDeciliter"), 0, 100,
      unit: "mg/dL")
    issues.requireRange(
      maximumMilligramsPerDeciliter, jsonPath(path, "maximumMilligramsPerDeciliter"), 200, 1000,
      unit: "mg/dL")
  }
}

/// Pump limits and increments, in pump units: basal in U/h, bolus in U.
/// simglucose's `pump_params.csv` gives the Insulet values (max bolus 30,
/// max basal 30, increments 0.05) without units, and its pump applies
/// them to rates in U/min after converting to pmol/min, so neither the
/// limits nor the rounding act there. Here they are read as the Insulet
/// specification states them.
public struct GlucosePumpDefinition: Codable, Sendable, Equatable {
  /// Pump name in simglucose's table (for the record).
  public var name: String
  /// Largest bolus, U.
  public var maximumBolusUnits: Double
  /// Bolus increment, U; requests are rounded to it.
  public var bolusIncrementUnits: Double
  /// Largest basal rate, U/h.
  public var maximumBasalUnitsPerHour: Double
  /// Basal rate increment, U/h; requests are rounded to it.
  public var basalIncrementUnitsPerHour: Double

  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(
      maximumBolusUnits, jsonPath(path, "maximumBolusUnits"), 0, 100, unit: "U", lowOpen: true)
    // The simulation skips the rounding for a zero increment, so zero is
    // rejected rather than read as a pump without steps.
    issues.requireRange(
      bolusIncrementUnits, jsonPath(path, "bolusIncrementUnits"), 0, 1, unit: "U",
      lowOpen: true, fix: "Use the pump's bolus step, for example 0.05 U.")
    issues.requireRange(
      maximumBasalUnitsPerHour, jsonPath(path, "maximumBasalUnitsPerHour"), 0, 100, unit: "U/h",
      lowOpen: true)
    issues.requireRange(
      basalIncrementUnitsPerHour, jsonPath(path, "basalIncrementUnitsPerHour"), 0, 1,
      unit: "U/h", lowOpen: true, fix: "Use the pump's basal step, for example 0.05 U/h.")
    if bolusIncrementUnits > 0, maximumBolusUnits > 0, bolusIncrementUnits > maximumBolusUnits {
      issues.add(
        jsonPath(path, "bolusIncrementUnits"),
        "is \(format(bolusIncrementUnits)) U, above maximumBolusUnits "
          + "\(format(maximumBolusUnits)) U, so the pump can deliver only 0 or the maximum. "
          + "Use an increment at most the maximum.")
    }
    if basalIncrementUnitsPerHour > 0, maximumBasalUnitsPerHour > 0,
      basalIncrementUnitsPerHour > maximumBasalUnitsPerHour
    {
      issues.add(
        jsonPath(path, "basalIncrementUnitsPerHour"),
        "is \(format(basalIncrementUnitsPerHour)) U/h, above maximumBasalUnitsPerHour "
          + "\(format(maximumBasalUnitsPerHour)) U/h, so the pump can deliver only 0 or the maximum. "
          + "Use an increment at most the maximum.")
    }
  }
}

/// Episode length and the range of the insulin multiplier action.
public struct GlucoseEpisodeDefinition: Codable, Sendable, Equatable {
  /// Episode length, h, a whole number of days (24-168).
  public var episodeHours: Int
  /// Largest insulin multiplier the agent may choose, in (1, 10]; the
  /// action range is [0, maximum] and its midpoint the policy's start.
  public var maximumInsulinMultiplier: Double

  func validate(path: String, sensorSampleMinutes: Int, _ issues: inout IssueCollector) {
    if !(24...168).contains(episodeHours) || episodeHours % 24 != 0 {
      issues.add(
        jsonPath(path, "episodeHours"),
        "is \(episodeHours), but must be a whole number of days in [24, 168] h. Use 24.")
    }
    issues.requireRange(
      maximumInsulinMultiplier, jsonPath(path, "maximumInsulinMultiplier"), 1, 10, unit: "",
      lowOpen: true, fix: "Use 2, so the policy starts at the baseline's insulin.")
  }
}

/// Glucose ranges and reward weights.
public struct GlucoseRewardDefinition: Codable, Sendable, Equatable {
  /// Lower end of the target range, mg/dL (70).
  public var targetLowerMilligramsPerDeciliter: Double
  /// Upper end of the target range, mg/dL (180).
  public var targetUpperMilligramsPerDeciliter: Double
  /// Reward of a step that ends in the target range, [0, 10].
  public var inRangeRewardPerStep: Double
  /// Weight of the Kovatchev risk (0-100) subtracted per step, [0, 1].
  public var riskPenaltyPerStep: Double
  /// Extra penalty of a step that ends below the target range, [0, 100].
  public var belowRangePenaltyPerStep: Double
  /// Extra weight of the low side of the Kovatchev risk (the risk where
  /// BG < 112.5 mg/dL, 0 above), subtracted per step, [0, 1], or 0 when
  /// absent. It penalises falling glucose before it leaves the range.
  public var lowRiskPenaltyPerStep: Double?
  /// Glucose below which a step costs 1 (else 0), mg/dL, in
  /// [40, targetLowerMilligramsPerDeciliter], or the lower end of the
  /// target range when absent. 54 counts only clinically significant
  /// hypoglycaemia (Battelino 2019).
  public var costThresholdMilligramsPerDeciliter: Double?

  /// The extra low-risk weight in use (0 when absent).
  public var lowRiskWeight: Double { lowRiskPenaltyPerStep ?? 0 }

  /// The cost threshold in use, mg/dL.
  public var costThreshold: Double {
    costThresholdMilligramsPerDeciliter ?? targetLowerMilligramsPerDeciliter
  }

  /// Returns the reward of a step that ends at true blood glucose `bg`
  /// (mg/dL) with Kovatchev symmetrised value `symmetrized` = f(bg):
  /// `inRangeRewardPerStep` inside the target range, minus
  /// `riskPenaltyPerStep` x 10 f^2, minus `lowRiskPenaltyPerStep` x 10 f^2
  /// when f < 0, minus `belowRangePenaltyPerStep` below the range.
  public func stepReward(bloodGlucose bg: Double, symmetrized: Double) -> Double {
    let risk = 10 * symmetrized * symmetrized
    let inRange =
      bg >= targetLowerMilligramsPerDeciliter && bg <= targetUpperMilligramsPerDeciliter
    let below = bg < targetLowerMilligramsPerDeciliter
    return (inRange ? inRangeRewardPerStep : 0) - riskPenaltyPerStep * risk
      - (symmetrized < 0 ? lowRiskWeight * risk : 0)
      - (below ? belowRangePenaltyPerStep : 0)
  }

  /// Returns the cost of a step that ends at true blood glucose `bg`
  /// (mg/dL): 1 below `costThreshold`, else 0.
  public func stepCost(bloodGlucose bg: Double) -> Double {
    bg < costThreshold ? 1 : 0
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(
      targetLowerMilligramsPerDeciliter, jsonPath(path, "targetLowerMilligramsPerDeciliter"),
      40, 120, unit: "mg/dL")
    issues.requireRange(
      targetUpperMilligramsPerDeciliter, jsonPath(path, "targetUpperMilligramsPerDeciliter"),
      120, 300, unit: "mg/dL")
    issues.requireRange(
      inRangeRewardPerStep, jsonPath(path, "inRangeRewardPerStep"), 0, 10, unit: "")
    issues.requireRange(riskPenaltyPerStep, jsonPath(path, "riskPenaltyPerStep"), 0, 1, unit: "")
    issues.requireRange(
      belowRangePenaltyPerStep, jsonPath(path, "belowRangePenaltyPerStep"), 0, 100, unit: "")
    if let weight = lowRiskPenaltyPerStep {
      issues.requireRange(
        weight, jsonPath(path, "lowRiskPenaltyPerStep"), 0, 1, unit: "",
        fix: "Use a weight in [0, 1], or remove the field for 0.")
    }
    if let threshold = costThresholdMilligramsPerDeciliter {
      issues.requireRange(
        threshold, jsonPath(path, "costThresholdMilligramsPerDeciliter"), 40,
        max(40, targetLowerMilligramsPerDeciliter), unit: "mg/dL",
        fix: "Use 54 or the lower end of the target range, or remove the field.")
    }
  }
}

/// The basal-bolus baseline of simglucose (`BBController`): basal at the
/// steady-state rate and a meal bolus of carbohydrate / CR plus
/// (CGM - target) / CF when the CGM is above the correction threshold.
public struct GlucoseBaselineDefinition: Codable, Sendable, Equatable {
  /// Glucose the correction aims for, mg/dL (simglucose: 140).
  public var targetMilligramsPerDeciliter: Double
  /// CGM above which a correction is added, mg/dL (simglucose: 150).
  public var correctionThresholdMilligramsPerDeciliter: Double

  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(
      targetMilligramsPerDeciliter, jsonPath(path, "targetMilligramsPerDeciliter"), 70, 200,
      unit: "mg/dL")
    issues.requireRange(
      correctionThresholdMilligramsPerDeciliter,
      jsonPath(path, "correctionThresholdMilligramsPerDeciliter"), targetMilligramsPerDeciliter,
      400, unit: "mg/dL", fix: "Set it at or above the target.")
  }
}
