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
    var statistics = RowStatistics()
    statistics.compute(logits: logits)
    return statistics.entropies
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
    var statistics = RowStatistics()
    statistics.compute(logits: logits)
    logitsGradient(
      statistics: statistics, actions: actions, logProbabilityGradients: logProbabilityGradients,
      entropyGradients: entropyGradients, into: &gradient)
  }

  /// Writes the gradient of `logitsGradient(logits:...)`, bit for bit, from
  /// statistics already computed for the same logits, as training keeps
  /// them between the forward and the backward pass.
  static func logitsGradient(
    statistics: RowStatistics, actions: [Float], logProbabilityGradients: [Float],
    entropyGradients: [Float], into gradient: inout Matrix
  ) {
    let rows = statistics.logSoftmax.rows
    let columns = statistics.logSoftmax.columns
    precondition(
      actions.count == rows && logProbabilityGradients.count == rows
        && entropyGradients.count == rows,
      "categorical gradient needs \(rows) actions and per-row gradients")
    gradient.reshape(rows: rows, columns: columns)
    statistics.logSoftmax.values.withUnsafeBufferPointer { logProbability in
      statistics.probabilities.values.withUnsafeBufferPointer { probability in
        gradient.values.withUnsafeMutableBufferPointer { output in
          for row in 0..<rows {
            let action = level(actions[row], count: columns)
            let entropy = statistics.entropies[row]
            let logProbabilityGradient = logProbabilityGradients[row]
            let entropyGradient = entropyGradients[row]
            for column in 0..<columns {
              let index = row * columns + column
              let indicator: Float = column == action ? 1 : 0
              output[index] =
                logProbabilityGradient * (indicator - probability[index])
                - entropyGradient * probability[index] * (logProbability[index] + entropy)
            }
          }
        }
      }
    }
  }

  /// Log-softmax, probabilities and entropy of each row of a logits
  /// matrix, computed once and shared by the log-probabilities, the
  /// entropies and the logits gradient of a training minibatch.
  ///
  /// `logSoftmax` equals `CategoricalHead.logSoftmax` bit for bit. The
  /// probabilities are `exp(z_j - max) / sum` from the same pass, which
  /// saves one `expf` per logit over `exp(logSoftmax)` and differs from it
  /// by rounding only. Each entropy sums `-p_j log p_j` over the columns in
  /// order.
  struct RowStatistics: Sendable {
    var logSoftmax = Matrix(rows: 0, columns: 0)
    var probabilities = Matrix(rows: 0, columns: 0)
    var entropies: [Float] = []

    /// Recomputes every statistic for `logits`, reusing the storage when
    /// the shape is unchanged.
    mutating func compute(logits: Matrix) {
      let rows = logits.rows
      let columns = logits.columns
      logSoftmax.reshape(rows: rows, columns: columns)
      probabilities.reshape(rows: rows, columns: columns)
      if entropies.count != rows {
        entropies = [Float](repeating: 0, count: rows)
      }
      logits.values.withUnsafeBufferPointer { input in
        logSoftmax.values.withUnsafeMutableBufferPointer { logProbability in
          probabilities.values.withUnsafeMutableBufferPointer { probability in
            entropies.withUnsafeMutableBufferPointer { entropyOfRow in
              for row in 0..<rows {
                let base = row * columns
                // The maximum, the sum and the normaliser in the order of
                // `CategoricalHead.logSoftmax`, so that the log-probabilities
                // equal those the rollout computed from the same logits.
                var maximum = -Float.infinity
                for column in 0..<columns { maximum = max(maximum, input[base + column]) }
                var sum: Float = 0
                for column in 0..<columns {
                  let shifted = expf(input[base + column] - maximum)
                  probability[base + column] = shifted
                  sum += shifted
                }
                let logNormalizer = maximum + logf(sum)
                var entropy: Float = 0
                for column in 0..<columns {
                  let index = base + column
                  logProbability[index] = input[index] - logNormalizer
                  probability[index] /= sum
                  entropy -= probability[index] * logProbability[index]
                }
                entropyOfRow[row] = entropy
              }
            }
          }
        }
      }
    }

    /// Returns `logSoftmax[row, action]` for each row's action level.
    func logProbabilities(actions: [Float]) -> [Float] {
      precondition(
        actions.count == logSoftmax.rows, "\(actions.count) actions for \(logSoftmax.rows) rows")
      return (0..<logSoftmax.rows).map { row in
        logSoftmax[row, level(actions[row], count: logSoftmax.columns)]
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
