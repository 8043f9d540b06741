import TitratePKPD

/// A creatinine clearance after a model's `CreatinineClearanceRule`, with
/// the adjustments that changed it.
public struct AdjustedCreatinineClearance: Sendable, Equatable {
  /// The clearance the model uses, in mL/min.
  public var millilitersPerMinute: Double
  /// The serum creatinine the Cockcroft-Gault equation used, in mg/dL:
  /// the patient's value, or the rule's floor when that raised it.
  public var serumCreatinineMilligramsPerDeciliter: Double
  /// True when the rule's serum creatinine floor raised the creatinine.
  public var creatinineFloorApplied: Bool
  /// True when the rule's upper cap lowered the clearance.
  public var capApplied: Bool
  /// True when the rule's lower floor raised the clearance.
  public var minimumApplied: Bool
}

extension CreatinineClearanceRule {
  /// Computes the Cockcroft-Gault creatinine clearance as a model with
  /// this rule uses it. The serum creatinine floor applies first (only
  /// above `serumCreatinineFloorAboveAgeYears` when that is set), then
  /// the upper cap, then the lower floor.
  /// - Parameters:
  ///   - ageYears: age, years, finite.
  ///   - weightKilograms: total body weight, kg, > 0.
  ///   - isFemale: applies the equation's 0.85 factor.
  ///   - serumCreatinineMilligramsPerDeciliter: measured value, mg/dL, > 0.
  public func adjustedClearance(
    ageYears: Double, weightKilograms: Double, isFemale: Bool,
    serumCreatinineMilligramsPerDeciliter: Double
  ) -> AdjustedCreatinineClearance {
    var creatinine = serumCreatinineMilligramsPerDeciliter
    if let floor = serumCreatinineFloorMilligramsPerDeciliter,
      ageYears > (serumCreatinineFloorAboveAgeYears ?? -Double.infinity)
    {
      creatinine = max(creatinine, floor)
    }
    let equation = cockcroftGaultCreatinineClearance(
      ageYears: ageYears, weightKilograms: weightKilograms,
      serumCreatinineMilligramsPerDeciliter: creatinine, isFemale: isFemale)
    var clearance = equation
    if let cap = maximumMillilitersPerMinute { clearance = min(clearance, cap) }
    let capped = clearance
    if let floor = minimumMillilitersPerMinute { clearance = max(clearance, floor) }
    return AdjustedCreatinineClearance(
      millilitersPerMinute: clearance,
      serumCreatinineMilligramsPerDeciliter: creatinine,
      creatinineFloorApplied: creatinine != serumCreatinineMilligramsPerDeciliter,
      capApplied: capped != equation, minimumApplied: clearance != capped)
  }
}
