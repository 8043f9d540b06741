/// Coordinate-wise median of the update vectors (Yin, Chen, Ramchandran and
/// Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal
/// Statistical Rates", ICML 2018).
///
/// Each coordinate of the result is the median of that coordinate over the
/// n vectors. For even n it is the mean of the two middle values. Sample
/// counts are ignored. It tolerates up to ceil(n / 2) - 1 arbitrary
/// vectors per coordinate.
/// - Precondition: `vectors` is non-empty and all have one length (the
///   strategy dispatch checks this before calling).
public func coordinateMedian(_ vectors: [[Double]]) -> [Double] {
  precondition(!vectors.isEmpty, "coordinateMedian needs at least one vector")
  var result = [Double](repeating: 0, count: vectors[0].count)
  var column = [Double](repeating: 0, count: vectors.count)
  for coordinate in result.indices {
    for (row, vector) in vectors.enumerated() {
      column[row] = vector[coordinate]
    }
    column.sort()
    result[coordinate] = medianOfSorted(column)
  }
  return result
}

/// Median of an ascending, non-empty array: the middle value, or the mean
/// of the two middle values for an even count.
func medianOfSorted(_ sorted: [Double]) -> Double {
  let middle = sorted.count / 2
  if sorted.count % 2 == 1 {
    return sorted[middle]
  }
  // Halving each value before adding cannot overflow, unlike (a + b) / 2.
  return sorted[middle - 1] / 2 + sorted[middle] / 2
}
