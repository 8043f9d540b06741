/// Rows that `normalizeRows` treats as one flat run of values, so that the
/// run fills whole 8-lane (and 4-lane) vectors whatever the row width.
public let normalizationBlockRows = 8

/// Writes `min(max((x - mean) * scale, -clip), clip)` per feature for
/// `rows` row-major observations of `features` values, the formula and
/// operation order of `RunningNormalizer.normalize` (there `clip` is
/// `RunningNormalizer.clipRange`).
///
/// `blockMeans` and `blockScales` hold `normalizationBlockRows * features`
/// values: the per-feature means and scales repeated once per row of a
/// block. Full blocks then run as one loop over contiguous values, which
/// vectorises even for row widths such as 21, and the remaining rows use
/// the first `features` entries. Every value gets the same operations.
@inlinable @inline(__always)
public func normalizeRows(
  _ source: UnsafePointer<Float>, rows: Int, features: Int,
  blockMeans: UnsafePointer<Float>, blockScales: UnsafePointer<Float>, clip: Float,
  into destination: UnsafeMutablePointer<Float>
) {
  let blockValues = normalizationBlockRows * features
  let fullBlocks = rows / normalizationBlockRows
  for block in 0..<fullBlocks {
    let sourceBlock = source + block * blockValues
    let destinationBlock = destination + block * blockValues
    for index in 0..<blockValues {
      let value = (sourceBlock[index] - blockMeans[index]) * blockScales[index]
      destinationBlock[index] = min(max(value, -clip), clip)
    }
  }

  for row in (fullBlocks * normalizationBlockRows)..<rows {
    let sourceRow = source + row * features
    let destinationRow = destination + row * features
    for feature in 0..<features {
      let value = (sourceRow[feature] - blockMeans[feature]) * blockScales[feature]
      destinationRow[feature] = min(max(value, -clip), clip)
    }
  }
}
