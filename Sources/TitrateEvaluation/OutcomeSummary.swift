import TitrateEnvironments

/// Clinical summary of one policy on one cohort (a site or all sites
/// pooled), computed from the per-patient outcome table of a dosing
/// environment. Column names follow `VancomycinEnvironment`.
public struct OutcomeSummary: Sendable, Codable, Equatable {
  public var policy: String
  public var cohort: String
  public var patients: Int
  /// Patients whose AUC24 on the last simulated day is inside the target
  /// window.
  public var targetAttainment: Proportion
  /// Patients inside the window on every simulated day.
  public var allDaysInTarget: Proportion
  /// AUC24 on the last day (mg*h/L).
  public var lastDayAUC: DistributionSummary
  public var lastDayAUCAbove600: Proportion
  public var lastDayAUCBelow400: Proportion
  /// Patients with at least one true trough above the limit (20 mg/L).
  public var anyTroughAboveLimit: Proportion
  /// Highest true trough per patient (mg/L).
  public var maximumTrough: DistributionSummary
  public var meanTotalDoseMilligrams: Double
  public var meanEpisodeReturn: Double
  /// Actuator interventions over all patients, by kind.
  public var interventions: [String: Int]
  /// Patients with at least one actuator clamp (single or daily maximum).
  public var patientsClamped: Int
  /// Doses the predictive shield lowered, over all patients (0 when the
  /// shield was off).
  public var shieldReductions: Int
  /// Patients with at least one dose lowered by the shield.
  public var patientsShielded: Int
  /// Fraction of patients with a daily AUC24 above the target range on
  /// any day (the `anyDayAUCAboveUpper` outcome).
  public var anyDayAUCAboveUpper: Proportion

  /// Summarises `table`; `days` is the number of simulated days, so the
  /// last day's columns are `day<days>AUC` and `day<days>InTarget`.
  public init(
    policy: String, cohort: String, table: OutcomeTable, days: Int, auc600: Double = 600,
    auc400: Double = 400
  ) {
    self.policy = policy
    self.cohort = cohort
    let patientCount = table.rowCount
    patients = patientCount
    func column(_ name: String) -> [Double] { table[column: name] ?? [] }
    func count(_ name: String) -> Proportion {
      Proportion(events: column(name).filter { $0 > 0.5 }.count, total: patientCount)
    }
    let lastAUC = column("day\(days)AUC")
    targetAttainment = count("day\(days)InTarget")
    allDaysInTarget = count("allDaysInTarget")
    lastDayAUC = DistributionSummary(lastAUC)
    lastDayAUCAbove600 = Proportion(
      events: lastAUC.filter { $0 > auc600 }.count, total: patientCount)
    lastDayAUCBelow400 = Proportion(
      events: lastAUC.filter { $0 < auc400 }.count, total: patientCount)
    anyTroughAboveLimit = count("anyTroughAboveLimit")
    maximumTrough = DistributionSummary(column("maximumTrueTroughMilligramsPerLiter"))
    let doses = column("totalDoseMilligrams")
    meanTotalDoseMilligrams = doses.isEmpty ? 0 : doses.reduce(0, +) / Double(doses.count)
    let returns = column("episodeReturn")
    meanEpisodeReturn = returns.isEmpty ? 0 : returns.reduce(0, +) / Double(returns.count)
    var interventions: [String: Int] = [:]
    for name in table.columnNames where name.hasPrefix("interventions") {
      let kind = String(name.dropFirst("interventions".count))
      interventions[kind] = Int(column(name).reduce(0, +))
    }
    self.interventions = interventions
    let single = column("interventionsClampedToSingleMaximum")
    let daily = column("interventionsClampedToDailyMaximum")
    patientsClamped = zip(single, daily).filter { $0 + $1 > 0 }.count
    let shield = column("shieldReductions")
    shieldReductions = Int(shield.reduce(0, +))
    patientsShielded = shield.filter { $0 > 0 }.count
    anyDayAUCAboveUpper = count("anyDayAUCAboveUpper")
  }

  /// Single-maximum and daily-maximum clamps, the interventions that change
  /// a dose by more than rounding.
  public var clamps: Int {
    (interventions["ClampedToSingleMaximum"] ?? 0) + (interventions["ClampedToDailyMaximum"] ?? 0)
  }
}
