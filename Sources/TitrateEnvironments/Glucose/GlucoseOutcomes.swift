extension GlucoseEnvironment {
  /// Outcome column names, in table order. Time fractions and risk
  /// indices are means over the true blood glucose at the end of every
  /// step (every 3 min for the Dexcom sensor), in [0, 1] and [0, 100].
  ///
  /// - `timeInRange` (70-180 mg/dL), `timeBelowRange` (< 70),
  ///   `timeBelow54`, `timeAboveRange` (> 180), `timeAbove250`;
  /// - `lowBloodGlucoseIndex`, `highBloodGlucoseIndex`, `riskIndex`;
  /// - `meanGlucoseMilligramsPerDeciliter`, `minimumGlucose...`,
  ///   `maximumGlucose...`; `cgmTimeInRange` (the same range on the CGM);
  /// - `totalInsulinUnits`, `totalBolusUnits`, `totalCarbohydrateGrams`;
  ///   `episodeReturn`, `episodeCost` (steps below the cost threshold);
  /// - actuator and pump interventions by kind, counts;
  /// - `patientIndex` (row of the patient table) and `ageGroupIndex`
  ///   (`GlucoseAgeGroup.allCases` order).
  public static let outcomeColumnNames = [
    "timeInRange", "timeBelowRange", "timeBelow54", "timeAboveRange", "timeAbove250",
    "lowBloodGlucoseIndex", "highBloodGlucoseIndex", "riskIndex",
    "meanGlucoseMilligramsPerDeciliter", "minimumGlucoseMilligramsPerDeciliter",
    "maximumGlucoseMilligramsPerDeciliter", "cgmTimeInRange", "totalInsulinUnits",
    "totalBolusUnits", "totalCarbohydrateGrams", "episodeReturn", "episodeCost",
    "interventionsNonFinite", "interventionsNegative", "interventionsClampedToMaximumMultiplier",
    "interventionsBasalAbovePumpMaximum", "interventionsBolusAbovePumpMaximum", "patientIndex",
    "ageGroupIndex",
  ]

  /// Returns the glycaemic summary of every patient's current episode so
  /// far (all steps taken since the start).
  public var episodeSummaries: [GlycemicSummary] { records.glycemic.map(\.summary) }

  /// Adds every patient's ended episode to the tally (and to the table
  /// when `recordsOutcomeTable` is on).
  func recordEndedEpisodes() {
    let names = Self.outcomeColumnNames
    var sums = [Double](repeating: 0, count: names.count)
    let patientTable = definition.patientTable.patients
    for p in 0..<batchSize {
      let summary = records.glycemic[p].summary
      let group = patientTable[patientIndices[p]].group
      let row = [
        summary.timeInRange, summary.timeBelow70, summary.timeBelow54, summary.timeAbove180,
        summary.timeAbove250, summary.lowBloodGlucoseIndex, summary.highBloodGlucoseIndex,
        summary.riskIndex, summary.meanMilligramsPerDeciliter, records.minimumGlucose[p],
        records.maximumGlucose[p], records.cgmInRange[p] / Double(decisionsPerEpisode),
        records.totalInsulinUnits[p], records.totalBolusUnits[p],
        records.totalCarbohydrateGrams[p], records.episodeReturn[p], records.episodeCost[p],
        records.nonFinite[p], records.negative[p], records.clampedToMaximumMultiplier[p],
        records.basalAbovePumpMaximum[p], records.bolusAbovePumpMaximum[p],
        Double(patientIndices[p]), Double(GlucoseAgeGroup.allCases.firstIndex(of: group)!),
      ]
      for index in row.indices { sums[index] += row[index] }
      if recordsOutcomeTable { table.appendRow(row) }
    }
    var ended = EpisodeOutcomeTally()
    ended.episodes = batchSize
    for (name, sum) in zip(names, sums) { ended.add(name, sum) }
    tally.merge(ended)
  }
}
