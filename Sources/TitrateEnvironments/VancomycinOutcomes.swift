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
  ///
  /// Works through the patients in blocks. Each table column of a block is
  /// read where it is stored, or computed into a buffer when it is derived,
  /// and each column's sum adds its values in patient order (the order of
  /// adding row after row). The table receives whole columns at the end.
  func recordEndedEpisodes() {
    let count = batchSize
    let days = state.dayCount
    let reward = definition.reward
    let untreatedAUC = definition.cost.untreatedDailyAUCMilligramHoursPerLiter
    let perPatient: [PatientStateColumns.Column] = [
      .maximumTrueTrough, .troughsAboveLimit, .troughsAboveLimit, .firstTroughAboveLimitHours,
      .totalDose, .episodeReturn,
      .episodeCost, .rounded, .clampedToSingleMaximum, .clampedToDailyMaximum, .nonFinite,
      .negative, .measurementsReportedAsZero, .shieldReductions, .shieldWithoutSafeDose, .ageYears,
      .weightKilograms, .female,
      .serumCreatinine, .creatinineClearance, .haemodialysis, .intensiveCare,
      .clearanceLitersPerHour, .centralVolumeLiters,
    ]
    // Position in `perPatient` of the any-trough indicator, derived from
    // the second troughsAboveLimit entry.
    let anyTroughOffset = 2
    let names = table.columnNames
    let columnCount = names.count
    var sums = [Double](repeating: 0, count: columnCount)
    let dayAUC = UnsafePointer(state.dayAUC.baseAddress!)
    let doses = UnsafePointer(state.doseByDecision.baseAddress!)
    let troughs = UnsafePointer(state.troughByDecision.baseAddress!)
    let decisionCount = state.decisionCount
    let recordsRows = recordsOutcomeTable
    precondition(
      2 * days + 3 + perPatient.count + 2 * decisionCount == columnCount,
      "outcome row layout differs from the \(columnCount) columns of the table")

    // The source of each table column: a state column, or a column of
    // `derived`, which is filled per block and so read at the block offset.
    enum Source {
      case stored(UnsafePointer<Double>)
      case derived(Int)
    }
    var sources: [Source] = []
    var derivedCount = 0
    func derive() -> Source {
      derivedCount += 1
      return .derived(derivedCount - 1)
    }
    for day in 0..<days { sources.append(.stored(dayAUC + day * count)) }
    let inTargetStart = derivedCount
    for _ in 0..<days { sources.append(derive()) }
    let allInTargetIndex = derivedCount
    let anyAboveIndex = derivedCount + 1
    let untreatedIndex = derivedCount + 2
    for _ in 0..<3 { sources.append(derive()) }
    let anyTroughIndex = derivedCount
    for (offset, column) in perPatient.enumerated() {
      sources.append(
        offset == anyTroughOffset ? derive() : .stored(UnsafePointer(state.pointer(column))))
    }
    for decision in 0..<decisionCount { sources.append(.stored(doses + decision * count)) }
    for decision in 0..<decisionCount { sources.append(.stored(troughs + decision * count)) }
    precondition(sources.count == columnCount, "expected a source per column")
    let troughsAbove = UnsafePointer(state.pointer(.troughsAboveLimit))

    var tableColumns: [[Double]] = []
    if recordsRows {
      tableColumns = [[Double]](repeating: [], count: columnCount)
      for index in 0..<columnCount { tableColumns[index].reserveCapacity(count) }
    }
    let blockSize = 4096

    withUnsafeTemporaryAllocation(of: Double.self, capacity: derivedCount * blockSize) { buffer in
      let derived = buffer.baseAddress!
      withUnsafeTemporaryAllocation(of: UnsafePointer<Double>.self, capacity: columnCount) {
        blockColumns in
        sums.withUnsafeMutableBufferPointer { sumBuffer in
          for blockStart in stride(from: 0, to: count, by: blockSize) {
            let rows = min(blockSize, count - blockStart)
            for day in 0..<days {
              let auc = dayAUC + day * count + blockStart
              let inTarget = derived + (inTargetStart + day) * blockSize
              for i in 0..<rows {
                inTarget[i] =
                  auc[i] >= reward.dailyAUCLowerMilligramHoursPerLiter
                    && auc[i] <= reward.dailyAUCUpperMilligramHoursPerLiter ? 1 : 0
              }
            }
            let allInTarget = derived + allInTargetIndex * blockSize
            let anyAbove = derived + anyAboveIndex * blockSize
            let untreated = derived + untreatedIndex * blockSize
            let anyTrough = derived + anyTroughIndex * blockSize
            for i in 0..<rows {
              let p = blockStart + i
              var all = 1.0
              var above = 0.0
              for day in 0..<days {
                let auc = dayAUC[day * count + p]
                if !(auc >= reward.dailyAUCLowerMilligramHoursPerLiter
                  && auc <= reward.dailyAUCUpperMilligramHoursPerLiter)
                {
                  all = 0
                }
                if auc > reward.dailyAUCUpperMilligramHoursPerLiter { above = 1 }
              }
              allInTarget[i] = all
              anyAbove[i] = above
              untreated[i] = dayAUC[(days - 1) * count + p] < untreatedAUC ? 1 : 0
              anyTrough[i] = troughsAbove[p] > 0 ? 1 : 0
            }

            for (index, source) in sources.enumerated() {
              switch source {
              case .stored(let column): blockColumns[index] = column + blockStart
              case .derived(let column):
                blockColumns[index] = UnsafePointer(derived + column * blockSize)
              }
            }
            Self.addColumns(
              UnsafePointer(blockColumns.baseAddress!), count: columnCount, rows: rows,
              to: sumBuffer.baseAddress!)
            if recordsRows {
              for index in 0..<columnCount {
                tableColumns[index].append(
                  contentsOf: UnsafeBufferPointer(start: blockColumns[index], count: rows))
              }
            }
          }
        }
      }
    }
    if recordsRows { table.appendColumns(tableColumns) }

    var ended = EpisodeOutcomeTally()
    ended.episodes = count
    for (name, sum) in zip(names, sums) { ended.add(name, sum) }
    tally.merge(ended)
  }

  /// Adds the first `rows` values of each of `count` columns to `sums`,
  /// each column's values in order. Four columns are summed side by side,
  /// so that four additions are in flight.
  private static func addColumns(
    _ columns: UnsafePointer<UnsafePointer<Double>>, count: Int, rows: Int,
    to sums: UnsafeMutablePointer<Double>
  ) {
    var first = 0
    while first + 4 <= count {
      let (a, b, c, d) = (
        columns[first], columns[first + 1], columns[first + 2], columns[first + 3]
      )
      var (sumA, sumB, sumC, sumD) = (
        sums[first], sums[first + 1], sums[first + 2], sums[first + 3]
      )
      for i in 0..<rows {
        sumA += a[i]
        sumB += b[i]
        sumC += c[i]
        sumD += d[i]
      }
      (sums[first], sums[first + 1], sums[first + 2], sums[first + 3]) = (sumA, sumB, sumC, sumD)
      first += 4
    }
    for index in first..<count {
      let column = columns[index]
      var sum = sums[index]
      for i in 0..<rows { sum += column[i] }
      sums[index] = sum
    }
  }
}
