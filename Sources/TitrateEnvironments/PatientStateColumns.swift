/// Per-patient state of a batch, stored column-major in one allocation so
/// that the step loops run over contiguous patients and never allocate.
/// The latest levels and the covariates that observations read are also
/// stored patient by patient (`levels`, `covariateRows`), so that the
/// per-patient loops of a step read a few streams of memory instead of one
/// per value, which measured faster.
final class PatientStateColumns {
  /// One column per case. `dayAUC`, `recentDoses`, `doseByDecision`,
  /// `troughByDecision`, `levels` and `covariateRows` are stored separately
  /// because they have several values per patient.
  enum Column: Int, CaseIterable {
    case ageYears, weightKilograms, female, serumCreatinine, creatinineClearance, haemodialysis
    case intensiveCare
    /// The true PK parameters CL (L/h) and V1 (L), for the outcome table.
    case clearanceLitersPerHour, centralVolumeLiters
    case aucAtDayStart, maximumTrueTrough, troughsAboveLimit, firstTroughAboveLimitHours, totalDose
    case episodeReturn, episodeCost
    case rounded, clampedToSingleMaximum, clampedToDailyMaximum, nonFinite, negative
    case measurementsReportedAsZero, shieldReductions, shieldWithoutSafeDose
  }

  let patientCount: Int
  let dayCount: Int
  /// Doses kept per patient, most recent first.
  let historyLength: Int
  private let storage: UnsafeMutableBufferPointer<Double>
  /// AUC24 of day d of patient p at `d * patientCount + p`, mg h/L.
  let dayAUC: UnsafeMutableBufferPointer<Double>
  /// Dose k steps back (0 = most recent) of patient p at `k * patientCount + p`.
  let recentDoses: UnsafeMutableBufferPointer<Double>
  /// Decisions per episode.
  let decisionCount: Int
  /// Delivered dose (mg) of decision k of patient p at `k * patientCount + p`.
  let doseByDecision: UnsafeMutableBufferPointer<Double>
  /// True concentration (mg/L) at the end of decision interval k (the
  /// trough before the next dose, or at the episode end) of patient p at
  /// `k * patientCount + p`.
  let troughByDecision: UnsafeMutableBufferPointer<Double>
  /// The latest and the previous measured level of each kind, 12 values
  /// per patient from `p * Level.recordSize`, at the offsets of `Level`.
  let levels: UnsafeMutableBufferPointer<Double>
  /// The covariate entries of patient p's observation rows, as Float, from
  /// `p * Covariate.rowSize` at the offsets of `Covariate`. Written when the
  /// patients are set.
  let covariateRows: UnsafeMutableBufferPointer<Float>

  /// Offsets in a patient's record of `levels`: for each of the latest
  /// trough, the latest peak, the previous trough and the previous peak,
  /// the value (mg/L, 0 before the first), whether one is available (0 or
  /// 1) and its time (hours since the episode start), in the order of the
  /// observation entries.
  enum Level {
    static let recordSize = 12
    static let trough = 0
    static let peak = 3
    /// Added to `trough` or `peak` for the previous level of the kind.
    static let previous = 6
    static let value = 0
    static let available = 1
    static let timeHours = 2
  }

  /// Offsets in a patient's row of `covariateRows`.
  enum Covariate {
    static let rowSize = 8
    static let ageYears = 0
    static let weightKilograms = 1
    static let female = 2
    static let serumCreatinine = 3
    static let creatinineClearance = 4
    static let haemodialysis = 5
    static let intensiveCare = 6
  }

  init(patientCount: Int, dayCount: Int, historyLength: Int, decisionCount: Int) {
    self.patientCount = patientCount
    self.dayCount = dayCount
    self.historyLength = historyLength
    self.decisionCount = decisionCount
    doseByDecision = .allocate(capacity: decisionCount * patientCount)
    doseByDecision.initialize(repeating: 0)
    troughByDecision = .allocate(capacity: decisionCount * patientCount)
    troughByDecision.initialize(repeating: 0)
    storage = .allocate(capacity: Column.allCases.count * patientCount)
    storage.initialize(repeating: 0)
    dayAUC = .allocate(capacity: dayCount * patientCount)
    dayAUC.initialize(repeating: 0)
    recentDoses = .allocate(capacity: historyLength * patientCount)
    recentDoses.initialize(repeating: 0)
    levels = .allocate(capacity: Level.recordSize * patientCount)
    levels.initialize(repeating: 0)
    covariateRows = .allocate(capacity: Covariate.rowSize * patientCount)
    covariateRows.initialize(repeating: 0)
  }

  deinit {
    storage.deallocate()
    dayAUC.deallocate()
    recentDoses.deallocate()
    doseByDecision.deallocate()
    troughByDecision.deallocate()
    levels.deallocate()
    covariateRows.deallocate()
  }

  /// Pointer to the first patient's value of a column.
  @inline(__always)
  func pointer(_ column: Column) -> UnsafeMutablePointer<Double> {
    storage.baseAddress! + column.rawValue * patientCount
  }

  /// Returns a column as a buffer (for APIs that take one).
  func buffer(_ column: Column) -> UnsafeMutableBufferPointer<Double> {
    UnsafeMutableBufferPointer(start: pointer(column), count: patientCount)
  }

  /// Clears everything that belongs to an episode (not the covariates).
  func clearEpisodeState() {
    let first = Column.aucAtDayStart.rawValue * patientCount
    for index in first..<storage.count { storage[index] = 0 }
    dayAUC.update(repeating: 0)
    recentDoses.update(repeating: 0)
    doseByDecision.update(repeating: 0)
    troughByDecision.update(repeating: 0)
    levels.update(repeating: 0)
  }
}
