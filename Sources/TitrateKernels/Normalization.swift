/// Writes `min(max((x - mean) * scale, -clip), clip)` per feature for
/// `rows` row-major observations of `features` values, the formula and
/// operation order of `RunningNormalizer.normalize` (there `clip` is
/// `RunningNormalizer.clipRange`).
@inlinable @inline(__always)
public func normalizeRows(
  _ source: UnsafePointer<Float>, rows: Int, features: Int,
  means: UnsafePointer<Float>, scales: UnsafePointer<Float>, clip: Float,
  into destination: UnsafeMutablePointer<Float>
) {
  for row in 0..<rows {
    let sourceRow = source + row * features
    let destinationRow = destination + row * features
    for feature in 0..<features {
      let value = (sourceRow[feature] - means[feature]) * scales[feature]
      destinationRow[feature] = min(max(value, -clip), clip)
    }
  }
}
