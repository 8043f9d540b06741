import Foundation

/// Covariates of the virtual patients (adults having general anaesthesia).
public struct PropofolPopulationDefinition: Codable, Sendable, Equatable {
  /// Age, years, within [18, 95].
  public var ageYears: TruncatedNormalDefinition
  /// Total body weight, kg, within [35, 200].
  public var weightKilograms: TruncatedNormalDefinition
  /// Height, cm, within [130, 220].
  public var heightCentimeters: TruncatedNormalDefinition
  /// Probability that a patient is female, [0, 1].
  public var femaleProbability: Double
  /// When true, a patient heavier than the peak weight of the James LBM
  /// curve for their height and sex is redrawn, so CL1 never takes the
  /// obesity branch where it rises with falling LBM. Ignored for
  /// Janmahasatian, which has no peak.
  public var rejectWeightsPastLeanBodyMassPeak: Bool

  func validate(path: String, _ issues: inout IssueCollector) {
    ageYears.validate(path: jsonPath(path, "ageYears"), low: 18, high: 95, unit: "years", &issues)
    weightKilograms.validate(
      path: jsonPath(path, "weightKilograms"), low: 35, high: 200, unit: "kg", &issues)
    heightCentimeters.validate(
      path: jsonPath(path, "heightCentimeters"), low: 130, high: 220, unit: "cm", &issues)
    issues.requireRange(femaleProbability, jsonPath(path, "femaleProbability"), 0, 1, unit: "")
  }
}

/// Decision interval, infusion limits, induction bolus and episode length.
public struct PropofolDosingDefinition: Codable, Sendable, Equatable {
  /// Seconds between infusion-rate decisions, in [5, 10].
  public var decisionIntervalSeconds: Double
  /// Exact-stepping grid, s, in (0, decisionIntervalSeconds]; must divide
  /// the decision interval. Time-in-range counts use this grid.
  public var simulationStepSeconds: Double
  /// Largest infusion rate, ug/kg/min, in (0, 200].
  public var maximumRateMicrogramsPerKilogramPerMinute: Double
  /// Induction bolus given into the central compartment at t = 0, mg/kg,
  /// in [0, 2.5]; 0 starts from the infusion alone.
  public var inductionBolusMilligramsPerKilogram: Double
  /// Episode length, min, in [5, 480].
  public var episodeMinutes: Double

  /// Grid steps per decision.
  public var stepsPerDecision: Int {
    Int((decisionIntervalSeconds / simulationStepSeconds).rounded())
  }
  /// Decisions per episode.
  public var decisionsPerEpisode: Int {
    Int((episodeMinutes * 60 / decisionIntervalSeconds).rounded())
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(
      decisionIntervalSeconds, jsonPath(path, "decisionIntervalSeconds"), 5, 10, unit: "s")
    issues.requireRange(
      simulationStepSeconds, jsonPath(path, "simulationStepSeconds"), 0,
      max(decisionIntervalSeconds, 0), unit: "s", lowOpen: true)
    if decisionIntervalSeconds > 0, simulationStepSeconds > 0 {
      let ratio = decisionIntervalSeconds / simulationStepSeconds
      if abs(ratio - ratio.rounded()) > 1e-9 {
        issues.add(
          jsonPath(path, "simulationStepSeconds"),
          "is \(format(simulationStepSeconds)) s, which does not divide the "
            + "\(format(decisionIntervalSeconds)) s decision interval. Use a divisor such as 1 s.")
      }
    }
    issues.requireRange(
      maximumRateMicrogramsPerKilogramPerMinute,
      jsonPath(path, "maximumRateMicrogramsPerKilogramPerMinute"), 0, 200, unit: "ug/kg/min",
      lowOpen: true)
    issues.requireRange(
      inductionBolusMilligramsPerKilogram, jsonPath(path, "inductionBolusMilligramsPerKilogram"),
      0, 2.5, unit: "mg/kg")
    issues.requireRange(episodeMinutes, jsonPath(path, "episodeMinutes"), 5, 480, unit: "min")
    if decisionIntervalSeconds > 0, episodeMinutes > 0 {
      let decisions = episodeMinutes * 60 / decisionIntervalSeconds
      if abs(decisions - decisions.rounded()) > 1e-9 {
        issues.add(
          jsonPath(path, "episodeMinutes"),
          "is \(format(episodeMinutes)) min, not a whole number of "
            + "\(format(decisionIntervalSeconds)) s decisions. Round it.")
      }
    }
  }
}

/// The BIS monitor's delay and additive Gaussian noise.
public struct PropofolMeasurementDefinition: Codable, Sendable, Equatable {
  /// Age of the BIS value the monitor shows, s, a whole number of decision
  /// intervals in [0, 60] (the monitor's smoothing window makes it lag).
  public var delaySeconds: Double
  /// SD of the additive noise, BIS units, [0, 20]; the reported value is
  /// clipped to [0, 100] and rounded to a whole number as monitors show it.
  public var noiseStandardDeviation: Double

  /// Decisions of delay.
  func delayDecisions(decisionIntervalSeconds: Double) -> Int {
    Int((delaySeconds / decisionIntervalSeconds).rounded())
  }

  func validate(path: String, decisionIntervalSeconds: Double, _ issues: inout IssueCollector) {
    issues.requireRange(delaySeconds, jsonPath(path, "delaySeconds"), 0, 60, unit: "s")
    if decisionIntervalSeconds > 0 {
      let ratio = delaySeconds / decisionIntervalSeconds
      if abs(ratio - ratio.rounded()) > 1e-9 {
        issues.add(
          jsonPath(path, "delaySeconds"),
          "is \(format(delaySeconds)) s, not a whole number of "
            + "\(format(decisionIntervalSeconds)) s decision intervals. Round it.")
      }
    }
    issues.requireRange(
      noiseStandardDeviation, jsonPath(path, "noiseStandardDeviation"), 0, 20, unit: "(BIS)")
  }
}

/// Target band, thresholds and reward weights. Rewards are per decision,
/// from the fractions of grid points of the true BIS in each band.
public struct PropofolRewardDefinition: Codable, Sendable, Equatable {
  /// Set point of the controllers and of Varvel's performance error (50).
  public var targetBIS: Double
  /// Lower end of the target band (40); below it is too deep.
  public var targetLowerBIS: Double
  /// Upper end of the target band (60); above it risks awareness.
  public var targetUpperBIS: Double
  /// BIS below which burst suppression becomes likely (30).
  public var burstSuppressionBIS: Double
  /// Reward per decision spent entirely in the band, [0, 100].
  public var inRangeReward: Double
  /// Penalty per decision spent entirely outside the band, [0, 100].
  public var outOfRangePenalty: Double
  /// Extra penalty per decision spent entirely below `burstSuppressionBIS`.
  public var burstSuppressionPenalty: Double
  /// Minutes from the episode start that Varvel's metrics and the time
  /// fractions skip (the induction), [0, episodeMinutes).
  public var performanceStartMinutes: Double
  /// Penalty per decision for the mean absolute performance error of the
  /// true BIS over its grid points, |BIS - targetBIS| / targetBIS, [0, 100].
  /// Optional: absent means 0, the band reward alone. The band reward is
  /// flat inside 40-60, so only this term rewards moving towards the set
  /// point, which is what Varvel's MDAPE measures.
  public var absoluteErrorPenalty: Double?

  /// The `absoluteErrorPenalty` in force (0 when the field is absent).
  public var effectiveAbsoluteErrorPenalty: Double { absoluteErrorPenalty ?? 0 }

  func validate(path: String, episodeMinutes: Double, _ issues: inout IssueCollector) {
    for (name, value) in [
      ("targetBIS", targetBIS), ("targetLowerBIS", targetLowerBIS),
      ("targetUpperBIS", targetUpperBIS), ("burstSuppressionBIS", burstSuppressionBIS),
    ] {
      issues.requireRange(value, jsonPath(path, name), 0, 100, unit: "(BIS)")
    }
    if !(burstSuppressionBIS <= targetLowerBIS && targetLowerBIS < targetBIS
      && targetBIS < targetUpperBIS)
    {
      issues.add(
        path,
        "has burst suppression \(format(burstSuppressionBIS)), band \(format(targetLowerBIS))-"
          + "\(format(targetUpperBIS)) and target \(format(targetBIS)); they must satisfy "
          + "burst <= lower < target < upper. Reorder the values.")
    }
    for (name, value) in [
      ("inRangeReward", inRangeReward), ("outOfRangePenalty", outOfRangePenalty),
      ("burstSuppressionPenalty", burstSuppressionPenalty),
      ("absoluteErrorPenalty", effectiveAbsoluteErrorPenalty),
    ] {
      issues.requireRange(value, jsonPath(path, name), 0, 100, unit: "")
    }
    if !(performanceStartMinutes >= 0 && performanceStartMinutes < episodeMinutes) {
      issues.add(
        jsonPath(path, "performanceStartMinutes"),
        "is \(format(performanceStartMinutes)) min, but must be in [0, \(format(episodeMinutes))) "
          + "(the episode length). Shorten it.")
    }
  }
}

/// Gains of the PID baseline, which acts on the measured BIS error
/// e = BIS - target (positive when too light):
/// rate = feedforward + Kp e + Ki integral(e dt) + Kd de/dt, clamped to
/// [0, maximum], with the integral frozen while the output saturates.
public struct PropofolPIDDefinition: Codable, Sendable, Equatable {
  /// Rate with zero error, ug/kg/min, [0, 200].
  public var feedforwardRateMicrogramsPerKilogramPerMinute: Double
  /// Kp, ug/kg/min per BIS unit, [0, 100].
  public var proportionalGain: Double
  /// Ki, ug/kg/min per BIS unit per min, [0, 100].
  public var integralGainPerMinute: Double
  /// Kd, ug/kg/min per BIS unit per (1/min), [0, 100].
  public var derivativeGainMinutes: Double

  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(
      feedforwardRateMicrogramsPerKilogramPerMinute,
      jsonPath(path, "feedforwardRateMicrogramsPerKilogramPerMinute"), 0, 200, unit: "ug/kg/min")
    for (name, value) in [
      ("proportionalGain", proportionalGain), ("integralGainPerMinute", integralGainPerMinute),
      ("derivativeGainMinutes", derivativeGainMinutes),
    ] {
      issues.requireRange(value, jsonPath(path, name), 0, 100, unit: "")
    }
  }
}
