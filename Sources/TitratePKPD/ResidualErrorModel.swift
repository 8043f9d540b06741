import TitrateRandom

/// A measured drug level as a laboratory reports it.
public struct ConcentrationMeasurement: Sendable, Equatable {
  /// The reported concentration, mg/L, >= 0.
  public var valueMilligramsPerLiter: Double
  /// True when the simulated assay result was negative and 0 was reported
  /// instead; callers count these.
  public var wasNegativeReportedAsZero: Bool
}

/// Combined additive and proportional residual error of a concentration
/// assay: observed = C (1 + proportionalFraction e1) +
/// additiveMilligramsPerLiter e2, with e1, e2 independent N(0, 1).
///
/// Negative results: an assay reports no negative level, so a negative
/// draw is reported as 0 mg/L and flagged in
/// `ConcentrationMeasurement.wasNegativeReportedAsZero`; it is never redrawn,
/// which would bias low levels upwards.
public struct ResidualErrorModel: Codable, Sendable, Equatable {
  /// Standard deviation of the additive error, mg/L, >= 0.
  public var additiveMilligramsPerLiter: Double
  /// Standard deviation of the proportional error as a fraction of the
  /// true concentration (0.227 for 22.7%), >= 0.
  public var proportionalFraction: Double

  /// Creates a residual error model; call `validate()` before use.
  public init(additiveMilligramsPerLiter: Double, proportionalFraction: Double) {
    self.additiveMilligramsPerLiter = additiveMilligramsPerLiter
    self.proportionalFraction = proportionalFraction
  }

  /// Checks that both standard deviations are finite and >= 0.
  public func validate() throws(PharmacokineticError) {
    for (name, value) in [
      ("additiveMilligramsPerLiter", additiveMilligramsPerLiter),
      ("proportionalFraction", proportionalFraction),
    ] where !(value.isFinite && value >= 0) {
      throw PharmacokineticError(
        parameter: name, value: "\(value)",
        requirement: "expected a finite standard deviation >= 0")
    }
  }

  /// Simulates one assay of true concentration
  /// `concentrationMilligramsPerLiter`. Always consumes two normal draws
  /// (e1 then e2), so the stream does not depend on the outcome.
  public func measure(
    concentrationMilligramsPerLiter concentration: Double, using generator: inout Xoshiro256
  ) -> ConcentrationMeasurement {
    let (proportionalError, additiveError) = generator.nextStandardNormalPair()
    let observed =
      concentration * (1 + proportionalFraction * proportionalError)
      + additiveMilligramsPerLiter * additiveError
    if observed < 0 {
      return ConcentrationMeasurement(valueMilligramsPerLiter: 0, wasNegativeReportedAsZero: true)
    }
    return ConcentrationMeasurement(
      valueMilligramsPerLiter: observed, wasNegativeReportedAsZero: false)
  }
}
