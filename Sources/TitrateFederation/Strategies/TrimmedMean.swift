#if canImport(Glibc)
  import Glibc
#endif

/// Number of values the trimmed mean cuts from each end of a coordinate:
/// floor(beta * n). A relative slack of 1e-9 absorbs rounding in beta * n,
/// so beta = 0.29 with n = 100 cuts 29, not 28.
public func trimmedCount(trimFraction: Double, participantCount: Int) -> Int {
  let exact = trimFraction * Double(participantCount)
  return Int(floor(exact * (1 + 1e-9)))
}

/// Coordinate-wise trimmed mean (Yin et al., ICML 2018): for each
/// coordinate, sort the n values, drop the k = floor(beta * n) smallest and
/// the k largest, and average the n - 2k values left. Sample counts are
/// ignored. With k = 0 it is the plain mean.
///
/// - Parameter trimFraction: beta in [0, 0.5); it tolerates up to k hostile
///   values per coordinate.
/// - Throws: `StrategyRoundError.boundViolated` when beta is outside
///   [0, 0.5), which would leave no value.
/// - Precondition: `vectors` is non-empty and all have one length.
public func trimmedMean(_ vectors: [[Double]], trimFraction: Double) throws(StrategyRoundError)
  -> [Double]
{
  precondition(!vectors.isEmpty, "trimmedMean needs at least one vector")
  guard (0..<0.5).contains(trimFraction) else {
    throw .boundViolated(.trimFractionOutOfRange(trimFraction: trimFraction))
  }
  let cut = trimmedCount(trimFraction: trimFraction, participantCount: vectors.count)
  let kept = vectors.count - 2 * cut
  var result = [Double](repeating: 0, count: vectors[0].count)
  var column = [Double](repeating: 0, count: vectors.count)
  for coordinate in result.indices {
    for (row, vector) in vectors.enumerated() {
      column[row] = vector[coordinate]
    }
    column.sort()
    var sum = 0.0
    for value in column[cut..<(cut + kept)] {
      sum += value
    }
    result[coordinate] = sum / Double(kept)
  }
  return result
}
