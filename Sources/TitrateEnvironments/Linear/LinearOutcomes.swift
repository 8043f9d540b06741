import Foundation

/// Per-patient sums of the current episode, `cycle * patientCount + p` for
/// per-cycle values.
struct LinearEpisodeRecords {
  let patientCount: Int
  /// Scored cycles per episode.
  let cycles: Int
  var episodeReturn: [Double] = []
  var episodeCost: [Double] = []
  /// Sum of the cycles' exposure scores.
  var exposureScore: [Double] = []
  /// Cycles with exposure score 1.
  var targetAttained: [Double] = []
  var troughBelowCeiling: [Double] = []
  var toxicTrough: [Double] = []
  var cumulativeAUC: [Double] = []
  var totalDoseMilligrams: [Double] = []
  /// Actuator interventions, counts.
  var invalidActions: [Double] = []
  var clampedToMaximum: [Double] = []
  var cycleDoses: [Double] = []
  var cycleIntervals: [Double] = []
  var cyclePeaks: [Double] = []
  var cycleTroughs: [Double] = []
  /// The exposure measure of each cycle, in the target's unit.
  var cycleExposure: [Double] = []

  init(patientCount: Int, cycles: Int) {
    self.patientCount = patientCount
    self.cycles = cycles
    clear()
  }

  mutating func clear() {
    let zeros = [Double](repeating: 0, count: patientCount)
    let perCycle = [Double](repeating: 0, count: cycles * patientCount)
    episodeReturn = zeros
    episodeCost = zeros
    exposureScore = zeros
    targetAttained = zeros
    troughBelowCeiling = zeros
    toxicTrough = zeros
    cumulativeAUC = zeros
    totalDoseMilligrams = zeros
    invalidActions = zeros
    clampedToMaximum = zeros
    cycleDoses = perCycle
    cycleIntervals = perCycle
    cyclePeaks = perCycle
    cycleTroughs = perCycle
    cycleExposure = perCycle
  }
}

extension LinearEnvironment {
  /// Outcome column names for episodes of `cycles` scored cycles, in table
  /// order. Fractions are of the episode's cycles, in [0, 1].
  ///
  /// - `targetAttainment`: cycles whose exposure score is 1 (for
  ///   peakToMICRatio: peak / MIC at or above the upper end).
  /// - `meanExposureScore`: mean exposure score.
  /// - `troughBelowCeiling`: cycles with true trough below the ceiling.
  /// - `toxicTrough`: cycles with true trough at or above the toxic level.
  /// - `cumulativeAUCAboveLimit`: 1 when the episode's AUC passed the limit.
  /// - `cumulativeAUCMilligramHoursPerLiter`, `meanPeakMilligramsPerLiter`,
  ///   `meanTroughMilligramsPerLiter`, `meanIntervalHours`,
  ///   `totalDoseMilligrams`, `episodeReturn`, `episodeCost`, actuator
  ///   interventions, covariates, the true CL (L/h) and V1 (L); then per
  ///   cycle N = 1...cycles: `cycleNDoseMilligrams`, `cycleNIntervalHours`,
  ///   `cycleNPeakMilligramsPerLiter`, `cycleNTroughMilligramsPerLiter`.
  public static func outcomeColumnNames(cycles: Int) -> [String] {
    var names = [
      "targetAttainment", "meanExposureScore", "troughBelowCeiling", "toxicTrough",
      "cumulativeAUCAboveLimit", "cumulativeAUCMilligramHoursPerLiter",
      "meanPeakMilligramsPerLiter", "meanTroughMilligramsPerLiter", "meanIntervalHours",
      "totalDoseMilligrams", "episodeReturn", "episodeCost", "interventionsInvalidAction",
      "interventionsClampedToMaximum", "ageYears", "weightKilograms", "female",
      "creatinineClearanceMillilitersPerMinute", "clearanceLitersPerHour",
      "centralVolumeLiters",
    ]
    for cycle in 1...cycles {
      names += [
        "cycle\(cycle)DoseMilligrams", "cycle\(cycle)IntervalHours",
        "cycle\(cycle)PeakMilligramsPerLiter", "cycle\(cycle)TroughMilligramsPerLiter",
      ]
    }
    return names
  }

  /// Adds every patient's ended episode to the tally (and to the table
  /// when `recordsOutcomeTable` is on).
  func recordEndedEpisodes() {
    let n = batchSize
    let cycleCount = Double(records.cycles)
    let names = table.columnNames
    var sums = [Double](repeating: 0, count: names.count)
    for p in 0..<n {
      let perCycle = { (values: [Double]) in
        (0..<self.records.cycles).map { values[$0 * n + p] }
      }
      let peaks = perCycle(records.cyclePeaks)
      let troughs = perCycle(records.cycleTroughs)
      let intervals = perCycle(records.cycleIntervals)
      let doses = perCycle(records.cycleDoses)
      let covariates = patients[p].covariates
      let parameters = patients[p].parameters
      var row = [
        records.targetAttained[p] / cycleCount, records.exposureScore[p] / cycleCount,
        records.troughBelowCeiling[p] / cycleCount, records.toxicTrough[p] / cycleCount,
        records.cumulativeAUC[p] > definition.safety.cumulativeAUCLimitMilligramHoursPerLiter
          ? 1 : 0,
        records.cumulativeAUC[p], peaks.reduce(0, +) / cycleCount,
        troughs.reduce(0, +) / cycleCount, intervals.reduce(0, +) / cycleCount,
        records.totalDoseMilligrams[p], records.episodeReturn[p], records.episodeCost[p],
        records.invalidActions[p], records.clampedToMaximum[p], covariates.ageYears,
        covariates.weightKilograms, covariates.isFemale ? 1 : 0,
        covariates.creatinineClearanceMillilitersPerMinute, parameters.clearanceLitersPerHour,
        parameters.centralVolumeLiters,
      ]
      for cycle in 0..<records.cycles {
        row += [doses[cycle], intervals[cycle], peaks[cycle], troughs[cycle]]
      }
      for index in row.indices { sums[index] += row[index] }
      if recordsOutcomeTable { table.appendRow(row) }
    }

    var ended = EpisodeOutcomeTally()
    ended.episodes = n
    for (name, sum) in zip(names, sums) { ended.add(name, sum) }
    tally.merge(ended)
  }
}
