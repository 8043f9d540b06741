/// Per-patient state of a batch, stored column-major in one allocation so
/// that the step loops run over contiguous patients and never allocate.
final class PatientStateColumns {
  /// One column per case; `dayAUC` and `recentDoses` are stored separately
  /// because they hold several values per patient.
  enum Column: Int, CaseIterable {
    case ageYears, weightKilograms, female, serumCreatinine, creatinineClearance, haemodialysis
    case intensiveCare
    /// The true PK parameters CL (L/h) and V1 (L), for the outcome table.
    case clearanceLitersPerHour, centralVolumeLiters
    case troughMeasured, troughAvailable, troughTimeHours
    case peakMeasured, peakAvailable, peakTimeHours
    case previousTroughMeasured, previousTroughAvailable, previousTroughTimeHours
    case previousPeakMeasured, previousPeakAvailable, previousPeakTimeHours
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
  }

  deinit {
    storage.deallocate()
    dayAUC.deallocate()
    recentDoses.deallocate()
    doseByDecision.deallocate()
    troughByDecision.deallocate()
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
    let first = Column.troughMeasured.rawValue * patientCount
    for index in first..<storage.count { storage[index] = 0 }
    dayAUC.update(repeating: 0)
    recentDoses.update(repeating: 0)
    doseByDecision.update(repeating: 0)
    troughByDecision.update(repeating: 0)
  }
}
