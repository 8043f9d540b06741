import Foundation

/// Closed-loop performance of a controlled signal against its set point by
/// the measures of Varvel JR, Donoho DL, Shafer SL, J Pharmacokinet
/// Biopharm 1992;20:63-94, as used for BIS control: with performance
/// errors PE_i = 100 (value_i - target) / target, in percent,
/// MDPE = median(PE) (bias), MDAPE = median(|PE|) (inaccuracy) and
/// wobble = median(|PE_i - MDPE|) (variability around the bias).
public struct VarvelPerformance: Sendable, Equatable {
  /// Median performance error, percent.
  public var medianPerformanceErrorPercent: Double
  /// Median absolute performance error, percent.
  public var medianAbsolutePerformanceErrorPercent: Double
  /// Median absolute deviation of PE from MDPE, percent.
  public var wobblePercent: Double

  /// Computes the three medians over `values` (a median of an even count
  /// is the mean of the middle two). Returns nil for no values.
  /// - Precondition: `target` is non-zero.
  public init?(values: [Double], target: Double) {
    precondition(target != 0, "target must be non-zero for a relative error")
    guard !values.isEmpty else { return nil }
    let errors = values.map { 100 * ($0 - target) / target }
    let bias = Self.median(errors)
    medianPerformanceErrorPercent = bias
    medianAbsolutePerformanceErrorPercent = Self.median(errors.map(abs))
    wobblePercent = Self.median(errors.map { abs($0 - bias) })
  }

  /// Returns the median of a non-empty array.
  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }
}
