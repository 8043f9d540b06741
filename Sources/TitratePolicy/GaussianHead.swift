import TitrateLinearAlgebra
import TitrateRandom

#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

/// A diagonal Gaussian policy: the mean comes from the network per row, the
/// log standard deviation is one learned parameter per action dimension
/// that does not depend on the observation (as in PPO for continuous
/// control, Schulman et al. 2017).
public struct GaussianHead: Sendable, Equatable {
  /// Natural log of the standard deviation per action dimension, in the
  /// same units as the mean (policy units).
  public var logStd: [Float]

  /// Creates a head with the given log standard deviations (0 gives a
  /// standard deviation of 1).
  public init(logStd: [Float]) {
    self.logStd = logStd
  }

  /// Number of action dimensions.
  public var actionDimension: Int { logStd.count }

  /// 0.5 log(2 pi), the per-dimension constant of the Gaussian log-density.
  static let halfLogTwoPi = Float(0.5 * log(2 * Double.pi))

  /// Draws `mean + std * noise` per row, with one standard normal draw per
  /// element in row-major order.
  public func sample(means: Matrix, generator: inout Xoshiro256) -> Matrix {
    checkShape(means)
    var actions = means
    for row in 0..<means.rows {
      for column in 0..<means.columns {
        let noise = Float(generator.nextStandardNormal())
        actions[row, column] += expf(logStd[column]) * noise
      }
    }
    return actions
  }

  /// Returns the log-density of each row's action, summed over dimensions.
  public func logProbabilities(means: Matrix, actions: Matrix) -> [Float] {
    checkShape(means)
    precondition(
      actions.rows == means.rows && actions.columns == means.columns,
      "actions \(actions.rows)x\(actions.columns) differ from means \(means.rows)x\(means.columns)")
    return (0..<means.rows).map { row in
      var sum: Float = 0
      for column in 0..<means.columns {
        let standardized = (actions[row, column] - means[row, column]) * expf(-logStd[column])
        sum += -0.5 * standardized * standardized - logStd[column] - Self.halfLogTwoPi
      }
      return sum
    }
  }

  /// The entropy of the distribution in nats, the same for every row:
  /// `sum_d (0.5 + 0.5 log(2 pi) + logStd_d)`.
  public var entropy: Float {
    logStd.reduce(0) { $0 + 0.5 + Self.halfLogTwoPi + $1 }
  }

  /// Writes dLoss/dMean and dLoss/dLogStd for a loss that depends on the
  /// rows through their log-densities and entropies.
  ///
  /// With `s = (a - mu) / sigma`: d log p / d mu = s / sigma,
  /// d log p / d logStd = s^2 - 1, d H / d logStd = 1, d H / d mu = 0.
  ///
  /// - Parameters:
  ///   - logProbabilityGradients: dLoss/d log pi(a | row), one per row.
  ///   - entropyGradients: dLoss/dH(row), one per row.
  ///   - logStdGradient: overwritten with the batch sum, one per dimension.
  public func gradients(
    means: Matrix, actions: Matrix, logProbabilityGradients: [Float], entropyGradients: [Float],
    meanGradient: inout Matrix, logStdGradient: inout [Float]
  ) {
    checkShape(means)
    let rows = means.rows
    precondition(
      logProbabilityGradients.count == rows && entropyGradients.count == rows,
      "Gaussian gradient needs one log-probability and one entropy gradient per row")
    meanGradient.reshape(rows: rows, columns: means.columns)
    logStdGradient = [Float](repeating: 0, count: actionDimension)
    let entropyTotal = entropyGradients.reduce(0, +)
    for column in 0..<means.columns {
      let inverseStd = expf(-logStd[column])
      var logStdSum: Float = 0
      for row in 0..<rows {
        let standardized = (actions[row, column] - means[row, column]) * inverseStd
        meanGradient[row, column] = logProbabilityGradients[row] * standardized * inverseStd
        logStdSum += logProbabilityGradients[row] * (standardized * standardized - 1)
      }
      logStdGradient[column] = logStdSum + entropyTotal
    }
  }

  private func checkShape(_ means: Matrix) {
    precondition(
      means.columns == actionDimension,
      "means have \(means.columns) columns but the head has \(actionDimension) dimensions")
  }
}
