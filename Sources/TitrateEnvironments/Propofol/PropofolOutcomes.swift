import Foundation

extension PropofolEnvironment {
  /// Outcome column names, in table order. Fractions are of the grid
  /// points after `performanceStartMinutes`, in [0, 1]; Varvel measures
  /// are over the decisions after it, in percent of the target BIS.
  ///
  /// `mdpePercent`, `mdapePercent`, `wobblePercent` use the reported BIS
  /// (as clinical studies do); `mdapeTrueBISPercent` uses the true BIS.
  /// `timeInRange`, `timeBelowRange` (BIS < 40 by default),
  /// `timeBelowBurstSuppression` (BIS < 30) and `timeAboveRange` (> 60)
  /// use the true BIS. `timeBelowRangeWholeEpisode`,
  /// `timeBelowBurstSuppressionWholeEpisode`, `minimumTrueBIS` and
  /// `inductionMinutes` cover the whole episode, so they include the dip
  /// after the induction bolus. `inductionMinutes` is the first time the
  /// true BIS reached the band's upper end, or the episode length if it
  /// never did.
  public static let outcomeColumnNames = [
    "mdpePercent", "mdapePercent", "wobblePercent", "mdapeTrueBISPercent", "timeInRange",
    "timeBelowRange", "timeBelowBurstSuppression", "timeAboveRange",
    "timeBelowRangeWholeEpisode", "timeBelowBurstSuppressionWholeEpisode", "minimumTrueBIS",
    "inductionMinutes", "totalDoseMilligramsPerKilogram",
    "meanInfusionRateMicrogramsPerKilogramPerMinute", "episodeReturn", "episodeCost",
    "interventionsClampedToMaximum", "interventionsNegative", "interventionsNonFinite",
    "ageYears", "weightKilograms", "heightCentimeters", "female", "leanBodyMassKilograms",
    "clearanceLitersPerMinute", "ce50MilligramsPerLiter",
  ]

  /// Adds every patient's ended episode to the tally (and to the table
  /// when `recordsOutcomeTable` is on).
  func recordEndedEpisodes() {
    let names = table.columnNames
    let target = definition.reward.targetBIS
    let dosing = definition.dosing
    var sums = [Double](repeating: 0, count: names.count)
    let episodeGridPoints = Double(decisionsPerEpisode * dosing.stepsPerDecision)
    for p in 0..<batchSize {
      let measured = VarvelPerformance(values: records.scoredMeasuredBIS[p], target: target)
      let truth = VarvelPerformance(values: records.scoredTrueBIS[p], target: target)
      let scored = max(records.gridPointsScored[p], 1)
      let patient = patients[p]
      let row = [
        measured?.medianPerformanceErrorPercent ?? 0,
        measured?.medianAbsolutePerformanceErrorPercent ?? 0, measured?.wobblePercent ?? 0,
        truth?.medianAbsolutePerformanceErrorPercent ?? 0,
        records.gridPointsInRange[p] / scored, records.gridPointsBelowRange[p] / scored,
        records.gridPointsBelowBurstSuppression[p] / scored,
        records.gridPointsAboveRange[p] / scored,
        records.episodeGridPointsBelowRange[p] / episodeGridPoints,
        records.episodeGridPointsBelowBurstSuppression[p] / episodeGridPoints,
        records.minimumTrueBIS[p],
        records.inductionMinutes[p] ?? dosing.episodeMinutes,
        records.cumulativeDoseMilligramsPerKilogram(
          patient: p, bolus: dosing.inductionBolusMilligramsPerKilogram),
        records.infusedMilligramsPerKilogram[p] * 1000 / dosing.episodeMinutes,
        records.episodeReturn[p], records.episodeCost[p], records.clampedToMaximum[p],
        records.negative[p], records.nonFinite[p], patient.ageYears, patient.weightKilograms,
        patient.heightCentimeters, patient.isFemale ? 1 : 0,
        patient.pharmacokinetics.leanBodyMassKilograms,
        patient.pharmacokinetics.clearanceLitersPerMinute, patient.bis.ce50MilligramsPerLiter,
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
