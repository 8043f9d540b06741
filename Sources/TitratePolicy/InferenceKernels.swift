/// Row kernels of `PolicyEvaluator`. Each is a plain loop over pointers, so
/// the compiler vectorises the elementwise ones, and each rounds exactly
/// as the `Matrix`-level code it replaces does.

/// Writes `min(max((x - mean) * scale, -clip), clip)` per feature for
/// `rows` row-major observations of `features` values, the formula and
/// operation order of `RunningNormalizer.normalize`.
func normalizeRows(
  _ source: UnsafePointer<Float>, rows: Int, features: Int,
  means: UnsafePointer<Float>, scales: UnsafePointer<Float>,
  into destination: UnsafeMutablePointer<Float>
) {
  let clip = RunningNormalizer.clipRange
  for row in 0..<rows {
    let sourceRow = source + row * features
    let destinationRow = destination + row * features
    for feature in 0..<features {
      let value = (sourceRow[feature] - means[feature]) * scales[feature]
      destinationRow[feature] = min(max(value, -clip), clip)
    }
  }
}

/// Adds `bias[column]` to each element of a row-major `rows x columns`
/// block, as `addBias` does.
func addBias(
  _ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
  bias: UnsafePointer<Float>
) {
  for row in 0..<rows {
    let rowValues = values + row * columns
    for column in 0..<columns {
      rowValues[column] += bias[column]
    }
  }
}

/// Writes, for each of `rows` rows of `columns` pre-bias logits, the index
/// (as Float) of the largest `logit + bias[column]`, keeping the lowest
/// index on ties, as `CategoricalHead.mostLikely` does. A NaN logit never
/// replaces the current best, so a row whose first logit is NaN gets 0.
func writeMostLikelyLevels(
  logitsWithoutBias: UnsafePointer<Float>, rows: Int, columns: Int,
  bias: UnsafePointer<Float>, into levels: UnsafeMutablePointer<Float>
) {
  for row in 0..<rows {
    let rowValues = logitsWithoutBias + row * columns
    var best = 0
    var bestLogit = rowValues[0] + bias[0]
    for column in 1..<max(columns, 1) {
      let logit = rowValues[column] + bias[column]
      if logit > bestLogit {
        best = column
        bestLogit = logit
      }
    }
    levels[row] = Float(best)
  }
}

/// Writes `low + (mean + 1) * halfWidth` for each of `rows` Gaussian means
/// `meanWithoutBias[row] + bias`, as `ActorCritic.environmentActions` maps
/// a deterministic continuous action.
func writeContinuousActions(
  meansWithoutBias: UnsafePointer<Float>, rows: Int, bias: Float, low: Float,
  halfWidth: Float, into actions: UnsafeMutablePointer<Float>
) {
  for row in 0..<rows {
    let mean = meansWithoutBias[row] + bias
    let action = low + (mean + 1) * halfWidth
    actions[row] = action.isNaN ? action : min(max(action, low), low + 2 * halfWidth)
  }
}
