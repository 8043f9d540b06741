#if canImport(Glibc)
  import Glibc
#endif

/// A proportion with its 95% Wilson score interval (Wilson, J Am Stat
/// Assoc 1927), which stays inside [0, 1] and behaves at 0 and n events.
public struct Proportion: Sendable, Equatable, Codable {
  public var events: Int
  public var total: Int

  public init(events: Int, total: Int) {
    precondition(total >= 0 && events >= 0 && events <= total, "need 0 <= events <= total")
    self.events = events
    self.total = total
  }

  /// The observed fraction, 0 when `total` is 0.
  public var fraction: Double { total == 0 ? 0 : Double(events) / Double(total) }

  /// Lower and upper bounds of the 95% Wilson interval (z = 1.959964).
  public var wilsonInterval: (lower: Double, upper: Double) {
    guard total > 0 else { return (0, 1) }
    let z = 1.959_963_984_540_054
    let n = Double(total)
    let p = fraction
    let denominator = 1 + z * z / n
    let centre = (p + z * z / (2 * n)) / denominator
    let halfWidth = z * ((p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()) / denominator
    // At 0 or n events the exact bound is 0 or 1; the formula leaves a
    // rounding residue there.
    let lower = events == 0 ? 0 : max(0, centre - halfWidth)
    let upper = events == total ? 1 : min(1, centre + halfWidth)
    return (lower, upper)
  }
}

/// Returns the q-quantile of `values` by linear interpolation between
/// order statistics (the default "type 7" definition of R and NumPy).
/// - Precondition: `values` is not empty and `q` is in [0, 1].
public func quantile(_ values: [Double], _ q: Double) -> Double {
  precondition(!values.isEmpty, "quantile of an empty sample")
  precondition((0...1).contains(q), "quantile level \(q) outside [0, 1]")
  let sorted = values.sorted()
  return quantileOfSorted(sorted, q)
}

/// Same as `quantile`, for an already sorted sample.
public func quantileOfSorted(_ sorted: [Double], _ q: Double) -> Double {
  let position = q * Double(sorted.count - 1)
  let lowerIndex = Int(position.rounded(.down))
  let upperIndex = min(lowerIndex + 1, sorted.count - 1)
  let weight = position - Double(lowerIndex)
  return sorted[lowerIndex] + weight * (sorted[upperIndex] - sorted[lowerIndex])
}

/// Five quantiles of a distribution: 5th, 25th, 50th, 75th and 95th
/// percentiles.
public struct DistributionSummary: Sendable, Equatable, Codable {
  public var p05: Double
  public var p25: Double
  public var median: Double
  public var p75: Double
  public var p95: Double

  public init(_ values: [Double]) {
    guard !values.isEmpty else {
      p05 = .nan
      p25 = .nan
      median = .nan
      p75 = .nan
      p95 = .nan
      return
    }
    let sorted = values.sorted()
    p05 = quantileOfSorted(sorted, 0.05)
    p25 = quantileOfSorted(sorted, 0.25)
    median = quantileOfSorted(sorted, 0.5)
    p75 = quantileOfSorted(sorted, 0.75)
    p95 = quantileOfSorted(sorted, 0.95)
  }
}
