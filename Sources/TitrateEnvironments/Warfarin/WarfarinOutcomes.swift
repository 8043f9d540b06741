/// Time below, in and above an INR range by the Rosendaal method (linear
/// interpolation between consecutive INR values; Rosendaal FR et al.,
/// Thromb Haemost 1993;69:236-239).
public struct RosendaalTimeInRange: Sendable, Equatable {
  /// Fraction of the time with INR below the lower bound, [0, 1].
  public var belowFraction: Double
  /// Fraction of the time with INR within [lower, upper], [0, 1].
  public var inRangeFraction: Double
  /// Fraction of the time with INR above the upper bound, [0, 1].
  public var aboveFraction: Double

  /// Interpolates linearly between consecutive points (`timesDays[i]`,
  /// `inrs[i]`) and returns the fractions of the span from the first to
  /// the last time spent below `lower`, within, and above `upper`.
  /// Returns all zeros when fewer than two points span a positive time.
  /// - Precondition: equal counts, non-decreasing times, lower <= upper.
  public init(timesDays: [Double], inrs: [Double], lower: Double, upper: Double) {
    precondition(timesDays.count == inrs.count, "times and INRs differ in count")
    precondition(lower <= upper, "lower bound \(lower) is above upper bound \(upper)")
    var below = 0.0
    var above = 0.0
    var total = 0.0
    for index in 1..<max(timesDays.count, 1) {
      let duration = timesDays[index] - timesDays[index - 1]
      precondition(duration >= 0, "times must not decrease")
      guard duration > 0 else { continue }
      let start = inrs[index - 1]
      let end = inrs[index]
      below += duration * Self.fractionBelow(lower, from: start, to: end)
      above += duration * (1 - Self.fractionBelowOrAt(upper, from: start, to: end))
      total += duration
    }
    guard total > 0 else {
      belowFraction = 0
      inRangeFraction = 0
      aboveFraction = 0
      return
    }
    belowFraction = below / total
    aboveFraction = above / total
    inRangeFraction = max(0, 1 - belowFraction - aboveFraction)
  }

  /// Fraction of a linear segment from `start` to `end` below `threshold`.
  static func fractionBelow(_ threshold: Double, from start: Double, to end: Double) -> Double {
    if start == end { return start < threshold ? 1 : 0 }
    // The segment crosses the threshold at s = (threshold - start) / (end - start).
    let crossing = min(max((threshold - start) / (end - start), 0), 1)
    return end > start ? crossing : 1 - crossing
  }

  /// Fraction of a linear segment at or below `threshold`.
  static func fractionBelowOrAt(_ threshold: Double, from start: Double, to end: Double)
    -> Double
  {
    if start == end { return start <= threshold ? 1 : 0 }
    return fractionBelow(threshold, from: start, to: end)
  }
}

extension WarfarinEnvironment {
  /// Outcome column names for an episode of `episodeDays` days, in table
  /// order. Fractions are of the episode's time, in [0, 1].
  ///
  /// - `ttrMeasured`: Rosendaal time in the target range between the
  ///   reported INRs (first to last measurement day).
  /// - `ttrTrueDaily`, `timeBelowRangeTrueDaily`,
  ///   `timeAboveRangeTrueDaily`, `timeAboveBleedingThresholdTrueDaily`:
  ///   Rosendaal fractions over the true INR at the start of every day
  ///   and at the episode end.
  /// - `timeInRangeGrid`, `timeBelowRangeGrid`,
  ///   `timeAboveBleedingThresholdGrid`: fractions of the RK4 grid points
  ///   (the quantities the reward uses).
  /// - `measurementsInRange`: fraction of reported INRs in range.
  /// - `maximumTrueINR`; `totalDoseMilligrams`; `meanDailyDoseLastWeekMilligrams`;
  ///   `episodeReturn`; `episodeCost`; actuator interventions by kind;
  ///   the covariates and genotype indices; the true CL (L/h) and EC50
  ///   (mg/L); then `dayNDoseMilligrams` (N = 1...episodeDays) and
  ///   `dayNTrueINR` (the INR at the start of day N, N = 1...episodeDays + 1).
  public static func outcomeColumnNames(episodeDays: Int) -> [String] {
    var names = [
      "ttrMeasured", "ttrTrueDaily", "timeBelowRangeTrueDaily", "timeAboveRangeTrueDaily",
      "timeAboveBleedingThresholdTrueDaily", "timeInRangeGrid", "timeBelowRangeGrid",
      "timeAboveBleedingThresholdGrid", "measurementsInRange", "maximumTrueINR",
      "totalDoseMilligrams", "meanDailyDoseLastWeekMilligrams", "episodeReturn", "episodeCost",
      "interventionsRounded", "interventionsClampedToMaximum", "interventionsNonFinite",
      "interventionsNegative", "ageYears", "weightKilograms", "heightCentimeters", "female",
      "cyp2c9Index", "vkorc1Index", "clearanceLitersPerHour", "ec50MilligramsPerLiter",
    ]
    for day in 1...episodeDays { names.append("day\(day)DoseMilligrams") }
    for day in 1...(episodeDays + 1) { names.append("day\(day)TrueINR") }
    return names
  }

  /// Adds every patient's ended episode to the tally (and to the table
  /// when `recordsOutcomeTable` is on).
  func recordEndedEpisodes() {
    let n = batchSize
    let reward = definition.reward
    let names = table.columnNames
    var sums = [Double](repeating: 0, count: names.count)
    let measuredDays = measurementDayIndices.prefix(records.measurementsTaken).map(Double.init)
    let dailyTimes = (0...episodeDays).map(Double.init)
    let gridPoints = Double(episodeDays * definition.dosing.stepsPerDay)

    for p in 0..<n {
      // Rosendaal fractions over the reported and the true daily INRs.
      let measured = (0..<records.measurementsTaken).map { records.measuredINR[$0 * n + p] }
      let daily = (0...episodeDays).map { records.trueDailyINR[$0 * n + p] }
      let measuredTTR = RosendaalTimeInRange(
        timesDays: measuredDays, inrs: measured, lower: reward.targetLowerINR,
        upper: reward.targetUpperINR)
      let dailyTTR = RosendaalTimeInRange(
        timesDays: dailyTimes, inrs: daily, lower: reward.targetLowerINR,
        upper: reward.targetUpperINR)
      let bleeding = RosendaalTimeInRange(
        timesDays: dailyTimes, inrs: daily, lower: reward.bleedingThresholdINR,
        upper: reward.bleedingThresholdINR)
      let inRangeCount = measured.filter {
        $0 >= reward.targetLowerINR && $0 <= reward.targetUpperINR
      }.count

      // One row in `outcomeColumnNames` order.
      let doses = (0..<episodeDays).map { records.doses[$0 * n + p] }
      let patient = patients[p]
      var row = [
        measuredTTR.inRangeFraction, dailyTTR.inRangeFraction, dailyTTR.belowFraction,
        dailyTTR.aboveFraction, bleeding.aboveFraction,
        records.gridPointsInRange[p] / gridPoints, records.gridPointsBelowRange[p] / gridPoints,
        records.gridPointsAboveBleedingThreshold[p] / gridPoints,
        measured.isEmpty ? 0 : Double(inRangeCount) / Double(measured.count),
        records.maximumTrueINR[p], doses.reduce(0, +),
        doses.suffix(7).reduce(0, +) / Double(min(7, doses.count)),
        records.episodeReturn[p], records.episodeCost[p], records.rounded[p],
        records.clampedToMaximum[p], records.nonFinite[p], records.negative[p],
        patient.ageYears, patient.weightKilograms, patient.heightCentimeters,
        patient.isFemale ? 1 : 0, Double(patient.cyp2c9.index), Double(patient.vkorc1.index),
        patient.parameters.clearanceLitersPerHour, patient.parameters.ec50MilligramsPerLiter,
      ]
      row += doses
      row += daily
      for index in row.indices { sums[index] += row[index] }
      if recordsOutcomeTable { table.appendRow(row) }
    }

    var ended = EpisodeOutcomeTally()
    ended.episodes = n
    for (name, sum) in zip(names, sums) { ended.add(name, sum) }
    tally.merge(ended)
  }
}
