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
  /// Entries per observation row.
  public static let count = 21

  /// Names of the entries in index order (for logs and feature reports).
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
