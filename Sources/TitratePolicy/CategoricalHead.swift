import TitrateLinearAlgebra
import TitrateRandom

#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

/// A categorical distribution per row of a `batch x actionCount` logits
/// matrix. Actions are level indices stored in `Float` (0, 1, ...).
///
/// All functions are row-wise and shift logits by the row maximum before
/// exponentiating, so large logits do not overflow.
public enum CategoricalHead {
  /// Writes `log softmax(logits)` row by row into `logProbabilities`.
  public static func logSoftmax(_ logits: Matrix, into logProbabilities: inout Matrix) {
    logProbabilities.reshape(rows: logits.rows, columns: logits.columns)
    let columns = logits.columns
    logits.values.withUnsafeBufferPointer { input in
      logProbabilities.values.withUnsafeMutableBufferPointer { output in
        for row in 0..<logits.rows {
          let base = row * columns
          var maximum = -Float.infinity
          for column in 0..<columns { maximum = max(maximum, input[base + column]) }
          var sum: Float = 0
          for column in 0..<columns { sum += expf(input[base + column] - maximum) }
          let logNormalizer = maximum + logf(sum)
          for column in 0..<columns { output[base + column] = input[base + column] - logNormalizer }
        }
      }
    }
  }

  /// Draws one level per row by inverting the cumulative distribution with
  /// one uniform draw per row.
  public static func sample(logits: Matrix, generator: inout Xoshiro256) -> [Float] {
    var logProbabilities = Matrix(rows: 0, columns: 0)
    logSoftmax(logits, into: &logProbabilities)
    let columns = logits.columns
    var actions = [Float](repeating: 0, count: logits.rows)
    for row in 0..<logits.rows {
      let uniform = Float(generator.nextUniform())
      var cumulative: Float = 0
      // Rounding can leave the total a little below 1, so the last level
      // takes whatever remains.
      var chosen = columns - 1
      for column in 0..<columns {
        cumulative += expf(logProbabilities[row, column])
        if uniform < cumulative {
          chosen = column
          break
        }
      }
      actions[row] = Float(chosen)
    }
    return actions
  }

  /// Returns the most likely level per row (the lowest index on ties).
  public static func mostLikely(logits: Matrix) -> [Float] {
    var actions = [Float](repeating: 0, count: logits.rows)
    for row in 0..<logits.rows {
      var best = 0
      for column in 1..<max(logits.columns, 1) where logits[row, column] > logits[row, best] {
        best = column
      }
      actions[row] = Float(best)
    }
    return actions
  }

  /// Returns log pi(action | row) for each row.
  /// - Precondition: every action is an integer level in `0..<columns`.
  public static func logProbabilities(logits: Matrix, actions: [Float]) -> [Float] {
    precondition(actions.count == logits.rows, "\(actions.count) actions for \(logits.rows) rows")
    var logSoftmaxValues = Matrix(rows: 0, columns: 0)
    logSoftmax(logits, into: &logSoftmaxValues)
    return (0..<logits.rows).map { row in
      logSoftmaxValues[row, level(actions[row], count: logits.columns)]
    }
  }

  /// Returns the entropy `-sum_j p_j log p_j` of each row, in nats.
  public static func entropies(logits: Matrix) -> [Float] {
    var logSoftmaxValues = Matrix(rows: 0, columns: 0)
    logSoftmax(logits, into: &logSoftmaxValues)
    return (0..<logits.rows).map { row in
      var entropy: Float = 0
      for column in 0..<logits.columns {
        let logProbability = logSoftmaxValues[row, column]
        entropy -= expf(logProbability) * logProbability
      }
      return entropy
    }
  }

  /// Writes dLoss/dLogits for a loss that depends on the rows through
  /// their log-probabilities and entropies.
  ///
  /// With `p = softmax(z)` and `a` the row's action:
  /// d log p_a / d z_j = 1[j = a] - p_j, and
  /// d H / d z_j = -p_j (log p_j + H).
  ///
  /// - Parameters:
  ///   - logProbabilityGradients: dLoss/d log pi(a | row), one per row.
  ///   - entropyGradients: dLoss/dH(row), one per row.
  public static func logitsGradient(
    logits: Matrix, actions: [Float], logProbabilityGradients: [Float],
    entropyGradients: [Float], into gradient: inout Matrix
  ) {
    let rows = logits.rows
    let columns = logits.columns
    precondition(
      actions.count == rows && logProbabilityGradients.count == rows
        && entropyGradients.count == rows,
      "categorical gradient needs \(rows) actions and per-row gradients")
    var logSoftmaxValues = Matrix(rows: 0, columns: 0)
    logSoftmax(logits, into: &logSoftmaxValues)
    gradient.reshape(rows: rows, columns: columns)
    for row in 0..<rows {
      var entropy: Float = 0
      for column in 0..<columns {
        let logProbability = logSoftmaxValues[row, column]
        entropy -= expf(logProbability) * logProbability
      }
      let action = level(actions[row], count: columns)
      for column in 0..<columns {
        let logProbability = logSoftmaxValues[row, column]
        let probability = expf(logProbability)
        let indicator: Float = column == action ? 1 : 0
        gradient[row, column] =
          logProbabilityGradients[row] * (indicator - probability)
          - entropyGradients[row] * probability * (logProbability + entropy)
      }
    }
  }

  private static func level(_ action: Float, count: Int) -> Int {
    let index = Int(action)
    precondition(
      Float(index) == action && index >= 0 && index < count,
      "categorical action \(action) is not a level in 0..<\(count)")
    return index
  }
}
