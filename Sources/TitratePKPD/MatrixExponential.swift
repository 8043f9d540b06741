// Matrix exponential by scaling and squaring with a diagonal Pade
// approximant, following Higham, "The scaling and squaring method for the
// matrix exponential revisited", SIAM J. Matrix Anal. Appl. 26(4), 2005,
// Algorithm 2.3 (degrees 3, 5, 7, 9, 13 and the theta_m bounds of its
// Table 2.3). The polynomials are evaluated term by term. That costs a few
// more products than Higham's factored degree-13 form, which does not
// matter for the matrices here (at most about 8 x 8).

/// Pade numerator coefficients b_0 ... b_m for the degrees Higham (2005)
/// uses, paired with theta_m, the largest 1-norm for which that degree
/// meets double-precision backward error without scaling.
private let padeTable: [(theta: Double, coefficients: [Double])] = [
  (1.495585217958292e-2, [120, 60, 12, 1]),
  (2.539398330063230e-1, [30240, 15120, 3360, 420, 30, 1]),
  (9.504178996162932e-1, [17_297_280, 8_648_640, 1_995_840, 277_200, 25200, 1512, 56, 1]),
  (
    2.097847961257068,
    [
      17_643_225_600, 8_821_612_800, 2_075_673_600, 302_702_400, 30_270_240,
      2_162_160, 110_880, 3960, 90, 1,
    ]
  ),
  (
    5.371920351148152,
    [
      64_764_752_532_480_000, 32_382_376_266_240_000, 7_771_770_303_897_600,
      1_187_353_796_428_800, 129_060_195_264_000, 10_559_470_521_600,
      670_442_572_800, 33_522_128_640, 1_323_241_920, 40_840_800, 960_960,
      16380, 182, 1,
    ]
  ),
]

/// Computes e^M for a square matrix stored row-major.
///
/// Scaling and squaring with a diagonal Pade approximant of degree 3, 5, 7,
/// 9 or 13 (Higham 2005, Algorithm 2.3). On the test matrices (up to 8 x 8)
/// it agrees with scipy.linalg.expm to about 1e-13 relative to the largest
/// entry of the result. The cost grows as n^3.
///
/// - Parameters:
///   - matrix: `dimension * dimension` finite entries, row-major.
///   - dimension: the number of rows (and columns), at least 1.
/// - Returns: e^M, row-major, `dimension * dimension` entries.
/// - Precondition: the entry count matches and every entry is finite.
public func matrixExponential(_ matrix: [Double], dimension: Int) -> [Double] {
  precondition(dimension >= 1, "matrixExponential: dimension must be >= 1, got \(dimension)")
  precondition(
    matrix.count == dimension * dimension,
    "matrixExponential: expected \(dimension * dimension) entries, got \(matrix.count)")
  precondition(
    matrix.allSatisfy { $0.isFinite }, "matrixExponential: entries must be finite")

  // Pick the lowest degree whose theta bound covers the 1-norm; otherwise
  // scale by 2^-s so that degree 13 applies, and square s times afterwards.
  let norm = oneNorm(matrix, dimension: dimension)
  var degreeIndex = padeTable.count - 1
  var squarings = 0
  if let index = padeTable.firstIndex(where: { norm <= $0.theta }) {
    degreeIndex = index
  } else {
    let ratio = norm / padeTable[degreeIndex].theta
    squarings = ratio.log2Ceiling
  }
  let scale = Double(sign: .plus, exponent: -squarings, significand: 1)
  let scaled = matrix.map { $0 * scale }

  var result = padeApproximant(
    scaled, dimension: dimension, coefficients: padeTable[degreeIndex].coefficients)
  for _ in 0..<squarings {
    result = matrixProduct(result, result, dimension: dimension)
  }
  return result
}

/// Evaluates r_m(A) = q_m(A)^-1 p_m(A) with p_m(A) = V + U and
/// q_m(A) = V - U, where U sums the odd and V the even powers of A.
private func padeApproximant(
  _ matrix: [Double], dimension n: Int, coefficients: [Double]
) -> [Double] {
  let degree = coefficients.count - 1
  let square = matrixProduct(matrix, matrix, dimension: n)
  var evenPower = identityMatrix(dimension: n)
  var oddSum = [Double](repeating: 0, count: n * n)
  var evenSum = [Double](repeating: 0, count: n * n)
  var k = 0
  while k <= degree {
    // evenPower = A^k for even k; b_k A^k goes to V, b_(k+1) A^k to U / A.
    for index in 0..<(n * n) {
      evenSum[index] += coefficients[k] * evenPower[index]
      if k + 1 <= degree {
        oddSum[index] += coefficients[k + 1] * evenPower[index]
      }
    }
    k += 2
    if k <= degree { evenPower = matrixProduct(evenPower, square, dimension: n) }
  }
  let odd = matrixProduct(matrix, oddSum, dimension: n)
  var numerator = evenSum
  var denominator = evenSum
  for index in 0..<(n * n) {
    numerator[index] += odd[index]
    denominator[index] -= odd[index]
  }
  return solveLinearSystem(denominator, numerator, dimension: n)
}

/// Solves Q X = P for X (n x n) by LU factorisation with partial pivoting.
/// Q = q_m(A) is well conditioned within the theta_m bounds (Higham 2005).
private func solveLinearSystem(
  _ coefficients: [Double], _ rightHandSides: [Double], dimension n: Int
) -> [Double] {
  var lu = coefficients
  var x = rightHandSides
  for column in 0..<n {
    var pivotRow = column
    for row in (column + 1)..<n
    where abs(lu[row * n + column]) > abs(lu[pivotRow * n + column]) {
      pivotRow = row
    }
    if pivotRow != column {
      for j in 0..<n {
        lu.swapAt(column * n + j, pivotRow * n + j)
        x.swapAt(column * n + j, pivotRow * n + j)
      }
    }
    let pivot = lu[column * n + column]
    precondition(pivot != 0, "matrixExponential: singular Pade denominator")
    for row in (column + 1)..<n {
      let factor = lu[row * n + column] / pivot
      if factor == 0 { continue }
      for j in column..<n { lu[row * n + j] -= factor * lu[column * n + j] }
      for j in 0..<n { x[row * n + j] -= factor * x[column * n + j] }
    }
  }
  for row in stride(from: n - 1, through: 0, by: -1) {
    for j in 0..<n {
      var value = x[row * n + j]
      for k in (row + 1)..<n { value -= lu[row * n + k] * x[k * n + j] }
      x[row * n + j] = value / lu[row * n + row]
    }
  }
  return x
}

/// Returns the product of two n x n row-major matrices.
func matrixProduct(_ left: [Double], _ right: [Double], dimension n: Int) -> [Double] {
  var product = [Double](repeating: 0, count: n * n)
  for i in 0..<n {
    for k in 0..<n {
      let factor = left[i * n + k]
      if factor == 0 { continue }
      for j in 0..<n { product[i * n + j] += factor * right[k * n + j] }
    }
  }
  return product
}

/// Returns the n x n identity matrix, row-major.
func identityMatrix(dimension n: Int) -> [Double] {
  var identity = [Double](repeating: 0, count: n * n)
  for i in 0..<n { identity[i * n + i] = 1 }
  return identity
}

/// Returns the maximum absolute column sum of an n x n row-major matrix.
private func oneNorm(_ matrix: [Double], dimension n: Int) -> Double {
  var maximum = 0.0
  for j in 0..<n {
    var sum = 0.0
    for i in 0..<n { sum += abs(matrix[i * n + j]) }
    maximum = max(maximum, sum)
  }
  return maximum
}

extension Double {
  /// ceil(log2(self)) for a finite value greater than 1, computed exactly
  /// from the binary exponent and significand.
  fileprivate var log2Ceiling: Int {
    let exponentValue = Int(exponent)
    return significand == 1 ? exponentValue : exponentValue + 1
  }
}
