import Foundation

/// A paper or guideline the definition's constants come from.
public struct LiteratureSource: Codable, Sendable, Equatable {
  /// Short key that models refer to (`goti2018`).
  public var key: String
  /// Authors, title, journal, year, volume and pages.
  public var citation: String
  /// DOI without the `https://doi.org/` prefix, or null when none is known.
  public var doi: String?

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(key, forKey: .key)
    try container.encode(citation, forKey: .citation)
    try container.encode(doi, forKey: .doi)
  }
}

/// When doses are decided and how they are infused and simulated.
public struct DosingRules: Codable, Sendable, Equatable {
  /// Hours between decisions (first decision at t = 0); 12 for q12h.
  public var decisionIntervalHours: Double
  /// Episode length in hours; a whole number of days and of intervals.
  public var episodeHours: Double
  /// Grid step of the exact PK simulation in hours; infusion ends and draw
  /// times are rounded up to it.
  public var simulationStepHours: Double
  /// Discrete action levels: 0, step, 2 step, ..., maximum (mg).
  public var doseLevelStepMilligrams: Double
  /// Largest discrete dose level in mg.
  public var maximumDoseLevelMilligrams: Double
  /// Infusion rate limit in mg/min (vancomycin infusion reactions).
  public var maximumInfusionRateMilligramsPerMinute: Double
  /// Shortest infusion in hours.
  public var minimumInfusionHours: Double

  /// Decisions per episode.
  public var decisionsPerEpisode: Int {
    Int((episodeHours / decisionIntervalHours).rounded())
  }

  /// Grid steps per decision interval.
  public var stepsPerDecision: Int {
    Int((decisionIntervalHours / simulationStepHours).rounded())
  }

  /// Number of discrete dose levels, 0 mg included.
  public var doseLevelCount: Int {
    Int((maximumDoseLevelMilligrams / doseLevelStepMilligrams).rounded()) + 1
  }

  /// Returns the infusion time of `doseMilligrams` in hours, the grid
  /// steps of `infusionSteps(doseMilligrams:)` times the step length.
  public func infusionHours(doseMilligrams: Double) -> Double {
    Double(infusionSteps(doseMilligrams: doseMilligrams)) * simulationStepHours
  }

  /// Grid steps of the infusion of `doseMilligrams`:
  /// duration = max(minimum, dose / rate limit), rounded up to the grid;
  /// 0 for a zero dose.
  public func infusionSteps(doseMilligrams: Double) -> Int {
    guard doseMilligrams > 0 else { return 0 }
    let hours = max(
      minimumInfusionHours, doseMilligrams / (maximumInfusionRateMilligramsPerMinute * 60))
    // The tolerance keeps 1.0 h from becoming 5 steps through round-off.
    return Int((hours / simulationStepHours - 1e-9).rounded(.up))
  }
}

/// When levels are drawn. All draws carry the residual error of the site's
/// true model.
public struct MeasurementSchedule: Codable, Sendable, Equatable {
  /// A trough is drawn this many hours before a dose.
  public var troughHoursBeforeDose: Double
  /// The first dose (1-based) that a trough is drawn before; 2 means the
  /// first trough precedes the second dose.
  public var firstTroughBeforeDoseNumber: Int
  /// A peak is drawn this many hours after the end of each infusion of a
  /// non-zero dose.
  public var peakHoursAfterInfusionEnd: Double
}

/// Per-step reward. Daily AUC24 terms arrive in the step that ends the day;
/// trough terms in the step that ends at the trough's time.
///
/// day score = `inTargetReward` when lower <= AUC24 <= upper, else
/// -min(maximumDailyPenalty, penalty per mg h/L x distance to the range);
/// reward of a day = dayWeights[day] x day score.
public struct RewardDefinition: Codable, Sendable, Equatable {
  /// Lower end of the AUC24 target in mg h/L (400 with MIC 1 mg/L).
  public var dailyAUCLowerMilligramHoursPerLiter: Double
  /// Upper end of the AUC24 target in mg h/L (600).
  public var dailyAUCUpperMilligramHoursPerLiter: Double
  /// MIC the AUC target assumes, in mg/L (documentation; AUC/MIC with MIC 1).
  public var minimumInhibitoryConcentrationMilligramsPerLiter: Double
  /// Weight of each day's score; one per day of the episode.
  public var dayWeights: [Double]
  /// Score of a day whose AUC24 is in the target range.
  public var inTargetReward: Double
  /// Penalty per mg h/L below the lower end.
  public var penaltyPerMilligramHourPerLiterBelow: Double
  /// Penalty per mg h/L above the upper end.
  public var penaltyPerMilligramHourPerLiterAbove: Double
  /// Cap on the penalty of one day (before the day weight).
  public var maximumDailyPenalty: Double
  /// True trough concentration limit in mg/L.
  public var troughLimitMilligramsPerLiter: Double
  /// Penalty per true trough above the limit (before each dose and at the
  /// episode end).
  public var penaltyPerTroughAboveLimit: Double
}

/// Per-step safety cost for constrained RL: 1-per-event counts, scaled.
/// A constrained learner keeps the expected episode cost below a limit, so
/// with `perEpisodeWithTroughAboveLimit` 1 and the other weights 0 the
/// expected episode cost is the fraction of patients who ever have a toxic
/// trough.
public struct CostDefinition: Codable, Sendable, Equatable {
  /// Cost per true trough above `reward.troughLimitMilligramsPerLiter`.
  public var perTroughAboveLimit: Double
  /// Cost charged once per episode, at the first true trough above the
  /// limit. Optional in the file (0 when absent), so definitions stored in
  /// checkpoints written before it existed still load.
  public var perEpisodeWithTroughAboveLimit: Double
  /// Cost per day whose AUC24 exceeds the upper end of the target.
  public var perDayAboveAUCUpper: Double
  /// Cost charged at the episode end when the last day's AUC24 is below
  /// `untreatedDailyAUCMilligramHoursPerLiter`: a patient left without
  /// effective therapy. Counting it with the toxic troughs keeps a
  /// constrained learner from meeting its limit by not dosing the patients
  /// at risk. Optional in the file (0 when absent).
  public var perEpisodeUntreated: Double
  /// Last-day AUC24 (mg h/L) below which a patient counts as untreated;
  /// 200 (half the guideline's lower bound) when absent.
  public var untreatedDailyAUCMilligramHoursPerLiter: Double

  public init(
    perTroughAboveLimit: Double, perEpisodeWithTroughAboveLimit: Double,
    perDayAboveAUCUpper: Double, perEpisodeUntreated: Double = 0,
    untreatedDailyAUCMilligramHoursPerLiter: Double = 200
  ) {
    self.perTroughAboveLimit = perTroughAboveLimit
    self.perEpisodeWithTroughAboveLimit = perEpisodeWithTroughAboveLimit
    self.perDayAboveAUCUpper = perDayAboveAUCUpper
    self.perEpisodeUntreated = perEpisodeUntreated
    self.untreatedDailyAUCMilligramHoursPerLiter = untreatedDailyAUCMilligramHoursPerLiter
  }

  private enum CodingKeys: String, CodingKey {
    case perTroughAboveLimit, perEpisodeWithTroughAboveLimit, perDayAboveAUCUpper
    case perEpisodeUntreated, untreatedDailyAUCMilligramHoursPerLiter
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    perTroughAboveLimit = try container.decode(Double.self, forKey: .perTroughAboveLimit)
    perEpisodeWithTroughAboveLimit =
      try container.decodeIfPresent(Double.self, forKey: .perEpisodeWithTroughAboveLimit) ?? 0
    perDayAboveAUCUpper = try container.decode(Double.self, forKey: .perDayAboveAUCUpper)
    perEpisodeUntreated =
      try container.decodeIfPresent(Double.self, forKey: .perEpisodeUntreated) ?? 0
    untreatedDailyAUCMilligramHoursPerLiter =
      try container.decodeIfPresent(Double.self, forKey: .untreatedDailyAUCMilligramHoursPerLiter)
      ?? 200
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(perTroughAboveLimit, forKey: .perTroughAboveLimit)
    try container.encode(perEpisodeWithTroughAboveLimit, forKey: .perEpisodeWithTroughAboveLimit)
    try container.encode(perDayAboveAUCUpper, forKey: .perDayAboveAUCUpper)
    // Written only when used, so definitions without it encode (and hash)
    // as before.
    if perEpisodeUntreated != 0 {
      try container.encode(perEpisodeUntreated, forKey: .perEpisodeUntreated)
      try container.encode(
        untreatedDailyAUCMilligramHoursPerLiter, forKey: .untreatedDailyAUCMilligramHoursPerLiter)
    }
  }
}

/// Limits the dose actuator enforces on every dose, whatever the policy
/// requests.
public struct ActuatorLimits: Codable, Sendable, Equatable {
  /// Deliverable dose increment in mg (vial and syringe practice).
  public var doseIncrementMilligrams: Double
  /// Largest single dose in mg.
  public var maximumSingleDoseMilligrams: Double
  /// Largest total of doses started within any 24 h, in mg.
  public var maximumDosePer24HoursMilligrams: Double

  public init(
    doseIncrementMilligrams: Double, maximumSingleDoseMilligrams: Double,
    maximumDosePer24HoursMilligrams: Double
  ) {
    self.doseIncrementMilligrams = doseIncrementMilligrams
    self.maximumSingleDoseMilligrams = maximumSingleDoseMilligrams
    self.maximumDosePer24HoursMilligrams = maximumDosePer24HoursMilligrams
  }
}

/// Parameters of the built-in baseline policies.
public struct BaselineDefinitions: Codable, Sendable, Equatable {
  /// Weight-based guideline dosing.
  public var guideline: GuidelineBaseline
  /// Dosing with knowledge of the patient's true PK parameters.
  public var oracle: OracleBaseline
  /// Model-informed precision dosing from MAP estimates; nil leaves the
  /// `bayesian` baseline out. Needs a `bayesianEstimate` section.
  public var bayesian: BayesianBaseline?
}

/// Weight-based dosing: a loading dose at t = 0, then maintenance doses,
/// all per kg of total body weight and rounded to the dose increment.
public struct GuidelineBaseline: Codable, Sendable, Equatable {
  /// Loading dose in mg/kg (consensus range 20-35 mg/kg).
  public var loadingMilligramsPerKilogram: Double
  /// Cap on the loading dose in mg.
  public var maximumLoadingDoseMilligrams: Double
  /// Maintenance dose in mg/kg per decision (consensus 15-20 mg/kg q8-12h).
  public var maintenanceMilligramsPerKilogram: Double
}

/// Settings of model-informed precision dosing, the AUC-guided dosing that
/// the 2020 consensus guideline recommends (Rybak et al., Am J Health-Syst
/// Pharm 2020;77:835). At each decision the MAP estimate of the patient's
/// parameters (the prior conditioned on every level so far) forecasts the
/// AUC of the next 24 h for each candidate dose, repeated at every decision
/// in that window. The dose whose forecast is closest to the target is
/// given.
public struct BayesianBaseline: Codable, Sendable, Equatable {
  /// Target AUC24 in mg h/L of the 24-h forecast.
  public var targetDailyAUCMilligramHoursPerLiter: Double
  /// When set, a candidate dose whose predicted next trough exceeds this
  /// concentration (mg/L) is skipped; 0 mg is always allowed.
  public var maximumPredictedTroughMilligramsPerLiter: Double?

  public init(
    targetDailyAUCMilligramHoursPerLiter: Double,
    maximumPredictedTroughMilligramsPerLiter: Double? = nil
  ) {
    self.targetDailyAUCMilligramHoursPerLiter = targetDailyAUCMilligramHoursPerLiter
    self.maximumPredictedTroughMilligramsPerLiter = maximumPredictedTroughMilligramsPerLiter
  }
}

/// Dosing that picks each dose so that the AUC predicted from the true
/// parameters over the next interval is `targetDailyAUC` x interval / 24 h.
public struct OracleBaseline: Codable, Sendable, Equatable {
  /// Target AUC24 in mg h/L; 500 is the middle of 400-600.
  public var targetDailyAUCMilligramHoursPerLiter: Double
}
