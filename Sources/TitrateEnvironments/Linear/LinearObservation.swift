import Foundation

/// The observation row of a linear-kind environment at a decision, in
/// order:
///
/// - fraction of the episode's decisions taken, [0, 1];
/// - dose of the current cycle / `safety.maximumDoseMilligrams`;
/// - previous interval / the longest interval choice (0 in the first cycle);
/// - ln(1 + level / 1 mg/L) for each reported level of the current cycle;
/// - ln(1 + trough / 1 mg/L) of the reported trough before the current
///   dose (0 in the first cycle), only when `measurements.measureTrough`;
/// - weight / 70 kg, age / 60 years, creatinine clearance / 100 mL/min,
///   female (0 or 1), serum creatinine / 1 mg/dL, haemodialysis (0 or 1).
///
/// The logarithm keeps levels from a few hundredths to a few tens of mg/L
/// on one scale without a per-drug constant.
public enum LinearObservation {
  /// The number of covariate features at the end of the row.
  public static let covariateCount = 6

  /// Returns the row length for a definition.
  public static func count(for definition: LinearDefinition) -> Int {
    3 + definition.measurements.levelHoursAfterDose.count
      + (definition.measurements.measureTrough ? 1 : 0) + covariateCount
  }
}

extension LinearEnvironment {
  /// Returns the current observation rows, row-major.
  func observations() -> [Float] {
    let dosing = definition.dosing
    let longest = dosing.intervalHoursChoices.last ?? 1
    var rows = [Float](repeating: 0, count: batchSize * observationSize)
    let progress = Double(decisionsTaken) / Double(dosing.decisionsPerEpisode)
    for p in 0..<batchSize {
      var row: [Double] = [
        progress, cycles.doseMilligrams[p] / definition.safety.maximumDoseMilligrams,
        cycles.previousIntervalHours[p] / longest,
      ]
      for level in 0..<cycles.levelCount {
        row.append(Foundation.log1p(max(cycles.measuredLevels[level * batchSize + p], 0)))
      }
      if definition.measurements.measureTrough {
        row.append(Foundation.log1p(max(cycles.measuredTrough[p], 0)))
      }
      let covariates = patients[p].covariates
      row += [
        covariates.weightKilograms / 70, covariates.ageYears / 60,
        covariates.creatinineClearanceMillilitersPerMinute / 100, covariates.isFemale ? 1 : 0,
        covariates.serumCreatinineMilligramsPerDeciliter, covariates.onHaemodialysis ? 1 : 0,
      ]
      for (index, value) in row.enumerated() { rows[p * observationSize + index] = Float(value) }
    }
    return rows
  }
}
