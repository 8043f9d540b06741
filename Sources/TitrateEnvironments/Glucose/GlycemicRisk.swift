import Foundation

/// The Kovatchev blood glucose risk function (Kovatchev BP, Cox DJ,
/// Gonder-Frederick LA, Clarke W, Diabetes Care 1997;20:1655-1658):
/// f(BG) = 1.509 [(ln BG)^1.084 - 5.381] with BG in mg/dL, and
/// risk = 10 f^2, which is 0 at BG = 112.5 mg/dL and about 100 at 20 and
/// 600 mg/dL.
public enum GlycemicRisk {
  /// The range the symmetrisation was fitted on, mg/dL; readings outside
  /// it are clamped to it, so the risk stays finite for BG <= 0 and
  /// saturates at about 100.
  public static let validRangeMilligramsPerDeciliter = 20.0...600.0

  /// Returns f(BG), negative below 112.5 mg/dL and positive above it.
  public static func symmetrized(milligramsPerDeciliter glucose: Double) -> Double {
    let range = validRangeMilligramsPerDeciliter
    let clamped = min(max(glucose, range.lowerBound), range.upperBound)
    return 1.509 * (pow(log(clamped), 1.084) - 5.381)
  }

  /// Returns the risk 10 f(BG)^2, in [0, about 100].
  public static func risk(milligramsPerDeciliter glucose: Double) -> Double {
    let f = symmetrized(milligramsPerDeciliter: glucose)
    return 10 * f * f
  }

  /// Returns the low-glucose part of the risk: the risk when f < 0, else 0.
  public static func lowRisk(milligramsPerDeciliter glucose: Double) -> Double {
    symmetrized(milligramsPerDeciliter: glucose) < 0 ? risk(milligramsPerDeciliter: glucose) : 0
  }

  /// Returns the high-glucose part of the risk: the risk when f > 0, else 0.
  public static func highRisk(milligramsPerDeciliter glucose: Double) -> Double {
    symmetrized(milligramsPerDeciliter: glucose) > 0 ? risk(milligramsPerDeciliter: glucose) : 0
  }
}

/// Glycaemic outcome measures of one glucose trace, each a mean over all
/// samples (Battelino T et al., Diabetes Care 2019;42:1593-1603 for the
/// ranges; Kovatchev 1997 for the risk indices).
///
/// LBGI and HBGI average the low and high risk over every sample, with 0
/// for samples on the other side. simglucose 0.2.11's `risk_index`
/// averages each over only the samples on its own side, which overstates
/// both for mixed traces; that is not done here.
public struct GlycemicSummary: Sendable, Equatable {
  /// Fraction of samples in [70, 180] mg/dL.
  public var timeInRange: Double
  /// Fraction of samples below 70 mg/dL.
  public var timeBelow70: Double
  /// Fraction of samples below 54 mg/dL.
  public var timeBelow54: Double
  /// Fraction of samples above 180 mg/dL.
  public var timeAbove180: Double
  /// Fraction of samples above 250 mg/dL.
  public var timeAbove250: Double
  /// Low blood glucose index, [0, 100].
  public var lowBloodGlucoseIndex: Double
  /// High blood glucose index, [0, 100].
  public var highBloodGlucoseIndex: Double
  /// Mean glucose, mg/dL.
  public var meanMilligramsPerDeciliter: Double

  /// Risk index = LBGI + HBGI (the mean risk over all samples).
  public var riskIndex: Double { lowBloodGlucoseIndex + highBloodGlucoseIndex }

  /// Summarises equally spaced glucose samples, mg/dL.
  /// - Precondition: `samples` is not empty.
  public init(milligramsPerDeciliter samples: [Double]) {
    precondition(!samples.isEmpty, "a glycaemic summary needs at least one sample")
    var accumulator = GlycemicAccumulator()
    for glucose in samples { accumulator.add(milligramsPerDeciliter: glucose) }
    self = accumulator.summary
  }

  init(
    timeInRange: Double, timeBelow70: Double, timeBelow54: Double, timeAbove180: Double,
    timeAbove250: Double, lowBloodGlucoseIndex: Double, highBloodGlucoseIndex: Double,
    meanMilligramsPerDeciliter: Double
  ) {
    self.timeInRange = timeInRange
    self.timeBelow70 = timeBelow70
    self.timeBelow54 = timeBelow54
    self.timeAbove180 = timeAbove180
    self.timeAbove250 = timeAbove250
    self.lowBloodGlucoseIndex = lowBloodGlucoseIndex
    self.highBloodGlucoseIndex = highBloodGlucoseIndex
    self.meanMilligramsPerDeciliter = meanMilligramsPerDeciliter
  }
}

/// Running sums behind a `GlycemicSummary`, one sample at a time.
struct GlycemicAccumulator {
  var count = 0.0
  var inRange = 0.0
  var below70 = 0.0
  var below54 = 0.0
  var above180 = 0.0
  var above250 = 0.0
  var lowRisk = 0.0
  var highRisk = 0.0
  var glucose = 0.0

  mutating func add(milligramsPerDeciliter value: Double) {
    count += 1
    if value >= 70 && value <= 180 { inRange += 1 }
    if value < 70 { below70 += 1 }
    if value < 54 { below54 += 1 }
    if value > 180 { above180 += 1 }
    if value > 250 { above250 += 1 }
    lowRisk += GlycemicRisk.lowRisk(milligramsPerDeciliter: value)
    highRisk += GlycemicRisk.highRisk(milligramsPerDeciliter: value)
    glucose += value
  }

  /// Adds a sample whose Kovatchev f(BG) and risk 10 f^2 the caller has
  /// computed already; the sums are the same as `add(milligramsPerDeciliter:)`.
  mutating func add(milligramsPerDeciliter value: Double, symmetrizedRisk f: Double, risk: Double) {
    count += 1
    if value >= 70 && value <= 180 { inRange += 1 }
    if value < 70 { below70 += 1 }
    if value < 54 { below54 += 1 }
    if value > 180 { above180 += 1 }
    if value > 250 { above250 += 1 }
    lowRisk += f < 0 ? risk : 0
    highRisk += f > 0 ? risk : 0
    glucose += value
  }

  var summary: GlycemicSummary {
    let n = max(count, 1)
    return GlycemicSummary(
      timeInRange: inRange / n, timeBelow70: below70 / n, timeBelow54: below54 / n,
      timeAbove180: above180 / n, timeAbove250: above250 / n, lowBloodGlucoseIndex: lowRisk / n,
      highBloodGlucoseIndex: highRisk / n, meanMilligramsPerDeciliter: glucose / n)
  }
}
