/// Estimates creatinine clearance, mL/min, by Cockcroft and Gault
/// (Nephron 1976;16:31): (140 - age) x weight / (72 x SCr), x 0.85 for
/// women.
///
/// The formula gives 0 at age 140 and a negative value beyond. Model-specific
/// adjustments (caps at 150 mL/min, a serum creatinine floor in older
/// patients, ideal or adjusted body weight) are left to the caller.
/// - Parameters:
///   - ageYears: age, years, in [0, 140] for a non-negative result.
///   - weightKilograms: body weight, kg, > 0.
///   - serumCreatinineMilligramsPerDeciliter: serum creatinine, mg/dL, > 0
///     (divide a value in umol/L by 88.4).
///   - isFemale: applies the 0.85 factor.
/// - Precondition: every value is finite, weight and creatinine are > 0.
public func cockcroftGaultCreatinineClearance(
  ageYears: Double, weightKilograms: Double,
  serumCreatinineMilligramsPerDeciliter: Double, isFemale: Bool
) -> Double {
  precondition(ageYears.isFinite, "ageYears must be finite, got \(ageYears)")
  precondition(
    weightKilograms.isFinite && weightKilograms > 0,
    "weightKilograms must be > 0, got \(weightKilograms)")
  precondition(
    serumCreatinineMilligramsPerDeciliter.isFinite && serumCreatinineMilligramsPerDeciliter > 0,
    "serumCreatinineMilligramsPerDeciliter must be > 0, got"
      + " \(serumCreatinineMilligramsPerDeciliter)")
  let male =
    (140 - ageYears) * weightKilograms / (72 * serumCreatinineMilligramsPerDeciliter)
  return isFemale ? 0.85 * male : male
}
