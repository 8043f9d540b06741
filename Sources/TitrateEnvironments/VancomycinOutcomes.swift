// Per-episode clinical outcomes of `VancomycinEnvironment`: the tally that
// learners log and the per-patient table that evaluation reports.
extension VancomycinEnvironment {
  /// Outcome column names for an episode of `days` days, in table order.
  ///
  /// `dayNAUC` (mg h/L) and `dayNInTarget` (0/1) per day; `allDaysInTarget`;
  /// `anyDayAUCAboveUpper` (0/1: some day's AUC24 above the target range);
  /// `lastDayUntreated` (0/1: the last day's AUC24 below the cost section's
  /// untreated level, 200 mg h/L in the shipped file);
  /// `maximumTrueTroughMilligramsPerLiter`; `troughsAboveLimit` (count),
  /// `anyTroughAboveLimit` (0/1) and `firstTroughAboveLimitHours` (time of
  /// the first true trough above the limit, 0 when none); `totalDoseMilligrams`; `episodeReturn`
  /// and `episodeCost`; actuator interventions by kind (counts);
  /// `measurementsReportedAsZero`. Then the predictive-shield interventions
  /// (`shieldReductions`, and `shieldWithoutSafeDose` when even no dose was
  /// predicted to stay within the thresholds), the covariates, and the
  /// true clearance (L/h) and central volume (L). Last the trajectory: the
  /// delivered dose of each decision (`doseNMilligrams`) and the true
  /// concentration at the end of each interval (`troughNMilligramsPerLiter`,
  /// the trough before dose N + 1 or at the episode end).
  public static func outcomeColumnNames(days: Int, decisions: Int) -> [String] {
    var names: [String] = []
    for day in 1...days { names.append("day\(day)AUC") }
    for day in 1...days { names.append("day\(day)InTarget") }
    names += [
      "allDaysInTarget", "anyDayAUCAboveUpper", "lastDayUntreated",
      "maximumTrueTroughMilligramsPerLiter", "troughsAboveLimit",
      "anyTroughAboveLimit", "firstTroughAboveLimitHours", "totalDoseMilligrams", "episodeReturn",
      "episodeCost",
      "interventionsRounded", "interventionsClampedToSingleMaximum",
      "interventionsClampedToDailyMaximum", "interventionsNonFinite", "interventionsNegative",
      "measurementsReportedAsZero", "shieldReductions", "shieldWithoutSafeDose", "ageYears",
      "weightKilograms", "female",
      "serumCreatinineMilligramsPerDeciliter", "creatinineClearanceMillilitersPerMinute",
      "haemodialysis", "intensiveCare", "clearanceLitersPerHour", "centralVolumeLiters",
    ]
    for decision in 1...decisions { names.append("dose\(decision)Milligrams") }
    for decision in 1...decisions { names.append("trough\(decision)MilligramsPerLiter") }
    return names
  }

  /// The 0/1 outcome columns an exposure threshold can bound.
  public static let exposureIndicatorOutcomes = [
    "anyTroughAboveLimit", "anyDayAUCAboveUpper", "lastDayUntreated",
  ]

  /// Adds every patient's ended episode to the tally (and to the table when
  /// `recordsOutcomeTable` is on).
  func recordEndedEpisodes() {
    let count = batchSize
    let days = state.dayCount
    let reward = definition.reward
    let perPatient: [PatientStateColumns.Column] = [
      .maximumTrueTrough, .troughsAboveLimit, .troughsAboveLimit, .firstTroughAboveLimitHours,
      .totalDose, .episodeReturn,
      .episodeCost, .rounded, .clampedToSingleMaximum, .clampedToDailyMaximum, .nonFinite,
      .negative, .measurementsReportedAsZero, .shieldReductions, .shieldWithoutSafeDose, .ageYears,
      .weightKilograms, .female,
      .serumCreatinine, .creatinineClearance, .haemodialysis, .intensiveCare,
    ]
    let names = table.columnNames
    var sums = [Double](repeating: 0, count: names.count)
    // Column pointers, the patients and the row buffer are read through
    // unsafe buffers, so that the loop does no bounds checks and copies no
    // `VirtualPatient`. The sums add the same values in the same order.
    let columnPointers = perPatient.map { state.pointer($0) }
    let dayAUC = UnsafePointer(state.dayAUC.baseAddress!)
    let doses = UnsafePointer(state.doseByDecision.baseAddress!)
    let troughs = UnsafePointer(state.troughByDecision.baseAddress!)
    let decisionCount = state.decisionCount
    let recordsRows = recordsOutcomeTable
    // The row buffer starts uninitialised and is written without bounds
    // checks, so the loop below must write exactly one value per column.
    precondition(
      2 * days + 3 + perPatient.count + 2 + 2 * decisionCount == names.count,
      "outcome row layout differs from the \(names.count) columns of the table")
    precondition(patients.count == count, "expected \(count) patients, got \(patients.count)")

    withUnsafeTemporaryAllocation(of: Double.self, capacity: names.count) { rowBuffer in
      let row = rowBuffer.baseAddress!
      sums.withUnsafeMutableBufferPointer { sumBuffer in
        patients.withUnsafeBufferPointer { patientBuffer in
          columnPointers.withUnsafeBufferPointer { columnBuffer in
            for p in 0..<count {
              var column = 0
              var allInTarget = 1.0
              var anyAbove = 0.0
              for day in 0..<days {
                row[column] = dayAUC[day * count + p]
                column += 1
              }
              for day in 0..<days {
                let auc = dayAUC[day * count + p]
                let inTarget =
                  auc >= reward.dailyAUCLowerMilligramHoursPerLiter
                  && auc <= reward.dailyAUCUpperMilligramHoursPerLiter
                row[column] = inTarget ? 1 : 0
                if !inTarget { allInTarget = 0 }
                if auc > reward.dailyAUCUpperMilligramHoursPerLiter { anyAbove = 1 }
                column += 1
              }
              let lastDayAUC = dayAUC[(days - 1) * count + p]
              row[column] = allInTarget
              row[column + 1] = anyAbove
              row[column + 2] =
                lastDayAUC < definition.cost.untreatedDailyAUCMilligramHoursPerLiter ? 1 : 0
              column += 3

              for (offset, source) in columnBuffer.enumerated() {
                var value = source[p]
                // The second troughsAboveLimit entry is the any-trough indicator.
                if offset == 2 { value = value > 0 ? 1 : 0 }
                row[column] = value
                column += 1
              }
              row[column] = patientBuffer[p].parameters.clearanceLitersPerHour
              row[column + 1] = patientBuffer[p].parameters.centralVolumeLiters
              column += 2
              for decision in 0..<decisionCount {
                row[column] = doses[decision * count + p]
                row[column + decisionCount] = troughs[decision * count + p]
                column += 1
              }
              for index in 0..<names.count { sumBuffer[index] += row[index] }
              if recordsRows { table.appendRow(Array(rowBuffer)) }
            }
          }
        }
      }
    }

    var ended = EpisodeOutcomeTally()
    ended.episodes = count
    for (name, sum) in zip(names, sums) { ended.add(name, sum) }
    tally.merge(ended)
  }
}
