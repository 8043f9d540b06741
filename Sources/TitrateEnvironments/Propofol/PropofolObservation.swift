/// Layout of one propofol observation row. Every feature is available to a
/// clinician at the bedside, and none is a hidden model state.
public enum PropofolObservation {
  /// Features per row.
  public static let count = 9
  /// Reported BIS / 100.
  public static let measuredBIS = 0
  /// BIS reported one decision earlier / 100.
  public static let previousMeasuredBIS = 1
  /// Rate delivered at the last decision / maximum rate.
  public static let lastRate = 2
  /// Elapsed fraction of the episode, [0, 1].
  public static let elapsedFraction = 3
  /// Cumulative propofol (bolus included), mg/kg / 10.
  public static let cumulativeDose = 4
  /// Age, years / 100.
  public static let age = 5
  /// Weight, kg / 100.
  public static let weight = 6
  /// Height, cm / 200.
  public static let height = 7
  /// 1 for female, 0 for male.
  public static let female = 8
}

extension PropofolEnvironment {
  /// Builds the current observations, row-major
  /// `batchSize x PropofolObservation.count`.
  func observations() -> [Float] {
    let maximumRate = definition.dosing.maximumRateMicrogramsPerKilogramPerMinute
    let elapsed = Double(decision) / Double(decisionsPerEpisode)
    var result = [Float](repeating: 0, count: batchSize * PropofolObservation.count)
    for p in 0..<batchSize {
      let patient = patients[p]
      let row = p * PropofolObservation.count
      result[row + PropofolObservation.measuredBIS] = Float(measuredBIS[p] / 100)
      result[row + PropofolObservation.previousMeasuredBIS] = Float(previousMeasuredBIS[p] / 100)
      result[row + PropofolObservation.lastRate] = Float(
        lastRatesMicrogramsPerKilogramPerMinute[p] / maximumRate)
      result[row + PropofolObservation.elapsedFraction] = Float(elapsed)
      result[row + PropofolObservation.cumulativeDose] = Float(
        records.cumulativeDoseMilligramsPerKilogram(
          patient: p, bolus: definition.dosing.inductionBolusMilligramsPerKilogram) / 10)
      result[row + PropofolObservation.age] = Float(patient.ageYears / 100)
      result[row + PropofolObservation.weight] = Float(patient.weightKilograms / 100)
      result[row + PropofolObservation.height] = Float(patient.heightCentimeters / 200)
      result[row + PropofolObservation.female] = patient.isFemale ? 1 : 0
    }
    return result
  }
}
