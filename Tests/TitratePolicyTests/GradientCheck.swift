import TitrateLinearAlgebra
import TitrateRandom

/// Central finite differences of `loss` at `point`, stepping each
/// coordinate by `step` in Float and evaluating the loss in Double.
func numericGradient(at point: [Float], step: Float, loss: ([Float]) -> Double) -> [Double] {
  var gradient = [Double](repeating: 0, count: point.count)
  var shifted = point
  for index in point.indices {
    shifted[index] = point[index] + step
    let upper = loss(shifted)
    shifted[index] = point[index] - step
    let lower = loss(shifted)
    shifted[index] = point[index]
    // Divide by the steps actually taken after Float rounding.
    let width = Double(point[index] + step) - Double(point[index] - step)
    gradient[index] = (upper - lower) / width
  }
  return gradient
}

/// Returns the largest violation of `|numeric - analytic| <= absolute +
/// relative * |numeric|` (0 or below means every entry passes).
func worstGradientMismatch(
  numeric: [Double], analytic: [Float], absolute: Double = 2e-3, relative: Double = 1e-2
) -> Double {
  precondition(numeric.count == analytic.count)
  var worst = -Double.infinity
  for index in numeric.indices {
    let difference = abs(numeric[index] - Double(analytic[index]))
    worst = max(worst, difference - (absolute + relative * abs(numeric[index])))
  }
  return worst
}

func gaussianMatrix(rows: Int, columns: Int, scale: Float = 1, generator: inout Xoshiro256) -> Matrix {
  var matrix = Matrix(rows: rows, columns: columns)
  for index in matrix.values.indices {
    matrix.values[index] = scale * Float(generator.nextStandardNormal())
  }
  return matrix
}

/// sum_ij weights_ij * matrix_ij in Double.
func weightedSum(_ matrix: Matrix, _ weights: Matrix) -> Double {
  var sum = 0.0
  for index in matrix.values.indices {
    sum += Double(matrix.values[index]) * Double(weights.values[index])
  }
  return sum
}
