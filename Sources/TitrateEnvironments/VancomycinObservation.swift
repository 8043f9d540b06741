/// Layout of one observation row of `VancomycinEnvironment` (Float, raw
/// units; the learner normalises).
///
/// | index | content | unit |
/// |---|---|---|
/// | 0 | age | years |
/// | 1 | total body weight | kg |
/// | 2 | female | 0 or 1 |
/// | 3 | serum creatinine | mg/dL |
/// | 4 | Cockcroft-Gault CrCl, no caps or floors | mL/min |
/// | 5 | on intermittent haemodialysis | 0 or 1 |
/// | 6 | hours since the episode start | h |
/// | 7 | most recent dose | mg |
/// | 8 | dose before that | mg |
/// | 9 | latest measured trough (0 before the first draw) | mg/L |
/// | 10 | trough available | 0 or 1 |
/// | 11 | hours since that trough was drawn (0 before) | h |
/// | 12 | latest measured peak (0 before the first draw) | mg/L |
/// | 13 | peak available | 0 or 1 |
/// | 14 | hours since that peak was drawn (0 before) | h |
/// | 15 | the trough measured before the latest one (0 before) | mg/L |
/// | 16 | that trough available | 0 or 1 |
/// | 17 | hours since that trough was drawn (0 before) | h |
/// | 18 | the peak measured before the latest one (0 before) | mg/L |
/// | 19 | that peak available | 0 or 1 |
/// | 20 | hours since that peak was drawn (0 before) | h |
/// | last | treated in intensive care (the care setting) | 0 or 1 |
///
/// With a `bayesianEstimate` section in the definition, each row continues
/// with the MAP estimate of the patient's parameters under the prior model,
/// refitted after every interval that brought new levels (the prior's
/// typical values for the patient's covariates until the first level):
///
/// | index | content | unit |
/// |---|---|---|
/// | 21 | estimated CL | L/h |
/// | 22 | estimated V1 | L |
/// | 23 | estimated V2 (0 for a one-compartment prior) | L |
/// | 24 | predicted AUC over the next 24 h of the doses given, no further dose | mg h/L |
/// | 25 | predicted AUC over the next 24 h of 1000 mg given now (its infusion time per the dosing rules), doses given excluded | mg h/L |
/// | 26 | predicted concentration at the next decision, no further dose | mg/L |
/// | 27 | predicted concentration at the next decision of 1000 mg given now, doses given excluded | mg/L |
/// | 28 | treated in intensive care (the care setting) | 0 or 1 |
///
/// The care-setting entry always ends the row: index 21 without the
/// section, 28 with it (`intensiveCare(observationSize:)`).
/// By linearity, a dose D now predicts an AUC24 of entry 24 + entry 25 x
/// D / 1000 (exact up to the longer infusion of larger doses) and a next
/// trough of entry 26 + entry 27 x D / 1000.
///
/// Two levels of each kind let a policy average out part of the residual
/// error (22.7% proportional in Goti 2018) instead of reacting to one draw.
public enum VancomycinObservation {
  public static let ageYears = 0
  public static let weightKilograms = 1
  public static let female = 2
  public static let serumCreatinineMilligramsPerDeciliter = 3
  public static let creatinineClearanceMillilitersPerMinute = 4
  public static let haemodialysis = 5
  public static let hoursSinceStart = 6
  public static let previousDoseMilligrams = 7
  public static let secondPreviousDoseMilligrams = 8
  public static let troughMilligramsPerLiter = 9
  public static let troughAvailable = 10
  public static let hoursSinceTrough = 11
  public static let peakMilligramsPerLiter = 12
  public static let peakAvailable = 13
  public static let hoursSincePeak = 14
  public static let previousTroughMilligramsPerLiter = 15
  public static let previousTroughAvailable = 16
  public static let hoursSincePreviousTrough = 17
  public static let previousPeakMilligramsPerLiter = 18
  public static let previousPeakAvailable = 19
  public static let hoursSincePreviousPeak = 20
  /// Entries per observation row without a `bayesianEstimate` section.
  public static let count = 22

  public static let estimatedClearanceLitersPerHour = 21
  public static let estimatedCentralVolumeLiters = 22
  public static let estimatedPeripheralVolumeLiters = 23
  public static let predictedAUC24WithoutDoseMilligramHoursPerLiter = 24
  public static let predictedAUC24Per1000MilligramsMilligramHoursPerLiter = 25
  public static let predictedNextTroughWithoutDoseMilligramsPerLiter = 26
  public static let predictedNextTroughPer1000MilligramsMilligramsPerLiter = 27
  /// Entries per observation row with a `bayesianEstimate` section.
  public static let countWithBayesianEstimate = 29

  /// Returns the index of the care-setting entry (1 in intensive care),
  /// the last of a row of `observationSize` entries.
  public static func intensiveCare(observationSize: Int) -> Int { observationSize - 1 }

  /// Returns the entries per row for a definition.
  public static func count(for definition: EnvironmentDefinition) -> Int {
    definition.bayesianEstimate == nil ? count : countWithBayesianEstimate
  }

  /// Returns the entry names in index order for a definition.
  public static func names(for definition: EnvironmentDefinition) -> [String] {
    (definition.bayesianEstimate == nil ? names : names + bayesianEstimateNames)
      + ["intensiveCare"]
  }

  /// Returns the entries, for rows of `observationSize` entries, in which a
  /// clinician expects the next dose to move one way, all else equal. In
  /// `raising` entries more clearance, measured or estimated, never gives
  /// less drug. In `lowering` entries a higher creatinine, measured level or
  /// predicted exposure never gives more. `titrate train --monotone-policy`
  /// constrains the policy in exactly these entries, and the clinical sanity
  /// checks of `titrate verify` probe a subset of them (entries 3, 4, 9, 12).
  public static func monotoneDoseEntries(observationSize: Int) -> (raising: [Int], lowering: [Int])
  {
    var raising = [creatinineClearanceMillilitersPerMinute]
    var lowering = [
      serumCreatinineMilligramsPerDeciliter, troughMilligramsPerLiter, peakMilligramsPerLiter,
      previousTroughMilligramsPerLiter, previousPeakMilligramsPerLiter,
    ]
    if observationSize >= countWithBayesianEstimate {
      raising.append(estimatedClearanceLitersPerHour)
      lowering += [
        predictedAUC24WithoutDoseMilligramHoursPerLiter,
        predictedAUC24Per1000MilligramsMilligramHoursPerLiter,
        predictedNextTroughWithoutDoseMilligramsPerLiter,
        predictedNextTroughPer1000MilligramsMilligramsPerLiter,
      ]
    }
    return (raising, lowering)
  }

  /// Names of entries 21 to 27, present with a `bayesianEstimate` section.
  public static let bayesianEstimateNames = [
    "estimatedClearanceLitersPerHour", "estimatedCentralVolumeLiters",
    "estimatedPeripheralVolumeLiters", "predictedAUC24WithoutDoseMilligramHoursPerLiter",
    "predictedAUC24Per1000MilligramsMilligramHoursPerLiter",
    "predictedNextTroughWithoutDoseMilligramsPerLiter",
    "predictedNextTroughPer1000MilligramsMilligramsPerLiter",
  ]

  /// Names of entries 0 to 20 in index order (for logs and feature
  /// reports); see `names(for:)` for the full row, which ends with
  /// `intensiveCare`.
  public static let names = [
    "ageYears", "weightKilograms", "female", "serumCreatinineMilligramsPerDeciliter",
    "creatinineClearanceMillilitersPerMinute", "haemodialysis", "hoursSinceStart",
    "previousDoseMilligrams", "secondPreviousDoseMilligrams", "troughMilligramsPerLiter",
    "troughAvailable", "hoursSinceTrough", "peakMilligramsPerLiter", "peakAvailable",
    "hoursSincePeak", "previousTroughMilligramsPerLiter", "previousTroughAvailable",
    "hoursSincePreviousTrough", "previousPeakMilligramsPerLiter", "previousPeakAvailable",
    "hoursSincePreviousPeak",
  ]
}
