/// Kinds of change the dose actuator can make to a requested dose.
public struct DoseInterventions: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// Rounded to the nearest dose increment.
  public static let rounded = DoseInterventions(rawValue: 1 << 0)
  /// Lowered to the single-dose maximum.
  public static let clampedToSingleMaximum = DoseInterventions(rawValue: 1 << 1)
  /// Lowered so that the doses of the last 24 h stay within the daily maximum.
  public static let clampedToDailyMaximum = DoseInterventions(rawValue: 1 << 2)
  /// NaN or infinite request, rejected and replaced by 0 mg.
  public static let nonFinite = DoseInterventions(rawValue: 1 << 3)
  /// Negative request, raised to 0 mg.
  public static let negative = DoseInterventions(rawValue: 1 << 4)
}

/// Numbers of requests and of interventions by kind.
public struct DoseInterventionCounts: Sendable, Equatable {
  /// Every request the actuator handled.
  public var requests = 0
  /// Requests rounded to the increment.
  public var rounded = 0
  /// Requests lowered to the single-dose maximum.
  public var clampedToSingleMaximum = 0
  /// Requests lowered to respect the 24-h maximum.
  public var clampedToDailyMaximum = 0
  /// NaN or infinite requests (delivered as 0 mg).
  public var nonFinite = 0
  /// Negative requests (delivered as 0 mg).
  public var negative = 0

  public init() {}

  /// Interventions of all kinds (a request changed twice counts twice).
  public var total: Int {
    rounded + clampedToSingleMaximum + clampedToDailyMaximum + nonFinite + negative
  }

  mutating func record(_ interventions: DoseInterventions) {
    requests += 1
    if interventions.contains(.rounded) { rounded += 1 }
    if interventions.contains(.clampedToSingleMaximum) { clampedToSingleMaximum += 1 }
    if interventions.contains(.clampedToDailyMaximum) { clampedToDailyMaximum += 1 }
    if interventions.contains(.nonFinite) { nonFinite += 1 }
    if interventions.contains(.negative) { negative += 1 }
  }
}

/// The safety layer between a policy and the patient: turns any requested
/// dose (mg, any value including NaN, infinity and negatives) into a
/// deliverable one and counts every change it makes.
///
/// Rules, applied in this order:
/// 1. A NaN or infinite request is rejected: 0 mg, counted as `nonFinite`.
/// 2. A negative request gives 0 mg, counted as `negative`.
/// 3. A request above `maximumSingleDoseMilligrams` (3000 mg in the shipped
///    vancomycin file) is lowered to it (`clampedToSingleMaximum`).
/// 4. Otherwise the request is rounded to the nearest multiple of
///    `doseIncrementMilligrams` (250 mg), halves away from zero (`rounded`).
/// 5. The dose is lowered to the largest increment multiple that keeps the
///    doses started within the last 24 h, this one included, at or below
///    `maximumDosePer24HoursMilligrams` (6000 mg) (`clampedToDailyMaximum`).
///
/// Validation of `ActuatorLimits` guarantees that both maxima are multiples
/// of the increment, so every delivered dose is a finite multiple of the
/// increment in [0, single maximum].
public struct DoseActuator: Sendable, Equatable {
  /// Deliverable increment in mg.
  public let doseIncrementMilligrams: Double
  /// Largest single dose in mg.
  public let maximumSingleDoseMilligrams: Double
  /// Largest total of doses started within any 24 h, in mg.
  public let maximumDosePer24HoursMilligrams: Double
  /// Requests and interventions since creation or the last `resetCounts()`.
  public private(set) var counts = DoseInterventionCounts()

  /// Creates an actuator with validated limits (see
  /// `EnvironmentDefinition.validate()`).
  public init(limits: ActuatorLimits) {
    precondition(
      limits.doseIncrementMilligrams > 0
        && limits.maximumSingleDoseMilligrams >= limits.doseIncrementMilligrams
        && limits.maximumDosePer24HoursMilligrams >= limits.maximumSingleDoseMilligrams,
      "actuator limits are invalid (\(limits)); validate the definition first")
    doseIncrementMilligrams = limits.doseIncrementMilligrams
    maximumSingleDoseMilligrams = limits.maximumSingleDoseMilligrams
    maximumDosePer24HoursMilligrams = limits.maximumDosePer24HoursMilligrams
  }

  /// Returns the dose to deliver and what was changed, and counts it.
  /// - Parameters:
  ///   - requestedMilligrams: the policy's request in mg, any value.
  ///   - milligramsInPrevious24Hours: total of the doses started less than
  ///     24 h before this one (a dose exactly 24 h earlier is outside).
  public mutating func deliver(
    requestedMilligrams: Double, milligramsInPrevious24Hours: Double
  ) -> (doseMilligrams: Double, interventions: DoseInterventions) {
    let result = Self.limit(
      requestedMilligrams, previous24Hours: milligramsInPrevious24Hours,
      increment: doseIncrementMilligrams, singleMaximum: maximumSingleDoseMilligrams,
      dailyMaximum: maximumDosePer24HoursMilligrams)
    counts.record(result.interventions)
    return result
  }

  /// Clears the counters.
  public mutating func resetCounts() { counts = DoseInterventionCounts() }

  /// Adds counts recorded elsewhere (by a batched caller) to this actuator's.
  public mutating func record(_ interventions: DoseInterventions) {
    counts.record(interventions)
  }

  /// Applies the rules of the type's documentation without counting.
  @inline(__always)
  public func limited(_ requestedMilligrams: Double, milligramsInPrevious24Hours: Double)
    -> (doseMilligrams: Double, interventions: DoseInterventions)
  {
    Self.limit(
      requestedMilligrams, previous24Hours: milligramsInPrevious24Hours,
      increment: doseIncrementMilligrams, singleMaximum: maximumSingleDoseMilligrams,
      dailyMaximum: maximumDosePer24HoursMilligrams)
  }

  @inline(__always)
  private static func limit(
    _ request: Double, previous24Hours: Double, increment: Double, singleMaximum: Double,
    dailyMaximum: Double
  ) -> (doseMilligrams: Double, interventions: DoseInterventions) {
    guard request.isFinite else { return (0, .nonFinite) }
    guard request >= 0 else { return (0, .negative) }
    var interventions: DoseInterventions = []
    var dose: Double
    if request > singleMaximum {
      dose = singleMaximum
      interventions.insert(.clampedToSingleMaximum)
    } else {
      dose = (request / increment).rounded(.toNearestOrAwayFromZero) * increment
      if dose != request { interventions.insert(.rounded) }
    }
    let remaining = max(0, dailyMaximum - previous24Hours)
    // The small tolerance keeps 6000 - 3000 from flooring to 2750 through
    // round-off in accumulated totals.
    let allowance = (remaining / increment + 1e-9).rounded(.down) * increment
    if dose > allowance {
      dose = allowance
      interventions.insert(.clampedToDailyMaximum)
    }
    return (dose, interventions)
  }
}
