import CBLAS

/// Computes `c = alpha * op(a) * op(b) + beta * c`, where `op` transposes
/// its argument when the matching flag is set. Calls `cblas_sgemm`.
///
/// - Parameters:
///   - a: `m x k` (or `k x m` when `transposeA`).
///   - b: `k x n` (or `n x k` when `transposeB`).
///   - alpha: scale of the product.
///   - beta: scale of the existing `c`; 0 overwrites (`c` may then hold
///     anything, even NaN), 1 accumulates.
///   - c: `m x n` result. When `beta == 0` and its shape differs, it is
///     reshaped to `m x n`.
/// - Precondition: the inner dimensions agree, and `c` is `m x n` when
///   `beta != 0`.
public func matrixProduct(
  _ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
  alpha: Float = 1, beta: Float = 0, into c: inout Matrix
) {
  let m = transposeA ? a.columns : a.rows
  let k = transposeA ? a.rows : a.columns
  let kB = transposeB ? b.columns : b.rows
  let n = transposeB ? b.rows : b.columns
  precondition(k == kB, "matrixProduct inner dimensions differ: \(k) vs \(kB)")
  if c.rows != m || c.columns != n {
    precondition(
      beta == 0, "matrixProduct accumulate needs c of \(m)x\(n), got \(c.rows)x\(c.columns)")
    c.reshape(rows: m, columns: n)
  }
  a.values.withUnsafeBufferPointer { aBuffer in
    b.values.withUnsafeBufferPointer { bBuffer in
      c.values.withUnsafeMutableBufferPointer { cBuffer in
        matrixProduct(
          rows: m, columns: n, inner: k,
          a: aBuffer.baseAddress, leadingA: max(a.columns, 1), transposeA: transposeA,
          b: bBuffer.baseAddress, leadingB: max(b.columns, 1), transposeB: transposeB,
          alpha: alpha, beta: beta,
          c: cBuffer.baseAddress, leadingC: max(n, 1))
      }
    }
  }
}

/// Pointer-level form of `matrixProduct` over row-major blocks with
/// explicit leading dimensions (elements between consecutive rows), for
/// callers that keep several matrices inside one flat buffer. Calls
/// `cblas_sgemm`.
///
/// - Parameters:
///   - rows: `m`, rows of `op(a)` and of `c`.
///   - columns: `n`, columns of `op(b)` and of `c`.
///   - inner: `k`, columns of `op(a)` and rows of `op(b)`.
public func matrixProduct(
  rows m: Int, columns n: Int, inner k: Int,
  a: UnsafePointer<Float>?, leadingA: Int, transposeA: Bool,
  b: UnsafePointer<Float>?, leadingB: Int, transposeB: Bool,
  alpha: Float, beta: Float,
  c: UnsafeMutablePointer<Float>?, leadingC: Int
) {
  guard m > 0, n > 0 else { return }
  guard k > 0 else {
    // BLAS leaves c untouched for k == 0 only when beta == 1; make the
    // empty product explicit.
    for row in 0..<m {
      for column in 0..<n {
        let index = row * leadingC + column
        c![index] = beta == 0 ? 0 : beta * c![index]
      }
    }
    return
  }
  cblas_sgemm(
    CblasRowMajor,
    transposeA ? CblasTrans : CblasNoTrans,
    transposeB ? CblasTrans : CblasNoTrans,
    Int32(m), Int32(n), Int32(k),
    alpha, a, Int32(leadingA), b, Int32(leadingB),
    beta, c, Int32(leadingC))
}

/// Adds `bias` (length `matrix.columns`) to every row of `matrix`.
public func addBias(_ bias: [Float], to matrix: inout Matrix) {
  let columns = matrix.columns
  precondition(bias.count == columns, "bias length \(bias.count) differs from \(columns) columns")
  let rows = matrix.rows
  guard rows > 0, columns > 0 else { return }
  bias.withUnsafeBufferPointer { biasBuffer in
    matrix.values.withUnsafeMutableBufferPointer { buffer in
      for row in 0..<rows {
        addRow(biasBuffer.baseAddress!, to: buffer.baseAddress! + row * columns, count: columns)
      }
    }
  }
}

/// Writes the sum of each column of `matrix` into `sums` (length
/// `matrix.columns`), adding to the existing contents when `accumulate`.
/// Each column is summed row by row from the top.
public func columnSums(of matrix: Matrix, into sums: inout [Float], accumulate: Bool = false) {
  let columns = matrix.columns
  if sums.count != columns {
    precondition(!accumulate, "accumulating column sums need \(columns) slots, got \(sums.count)")
    sums = [Float](repeating: 0, count: columns)
  } else if !accumulate {
    for index in sums.indices { sums[index] = 0 }
  }
  let rows = matrix.rows
  guard rows > 0, columns > 0 else { return }
  matrix.values.withUnsafeBufferPointer { buffer in
    sums.withUnsafeMutableBufferPointer { sumBuffer in
      for row in 0..<rows {
        addRow(buffer.baseAddress! + row * columns, to: sumBuffer.baseAddress!, count: columns)
      }
    }
  }
}

/// Computes `target[i] += source[i]` for `count` elements, eight at a time.
///
/// The plain loop compiled to scalar additions in the Swift 6.3 release
/// build (the compiler cannot rule out that the buffers overlap). Each
/// element still gets one Float addition, so the result equals the plain
/// loop's.
@inline(__always)
func addRow(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
  typealias Lanes = SIMD8<Float>
  var index = 0
  while index + Lanes.scalarCount <= count {
    let sum =
      UnsafeRawPointer(target + index).loadUnaligned(as: Lanes.self)
      + UnsafeRawPointer(source + index).loadUnaligned(as: Lanes.self)
    UnsafeMutableRawPointer(target + index).storeBytes(of: sum, as: Lanes.self)
    index += Lanes.scalarCount
  }
  while index < count {
    target[index] += source[index]
    index += 1
  }
}

/// Computes `y += alpha * x`. Calls `cblas_saxpy`.
/// - Precondition: `x.count == y.count`.
public func axpy(alpha: Float, x: [Float], y: inout [Float]) {
  precondition(x.count == y.count, "axpy lengths differ: \(x.count) vs \(y.count)")
  let count = Int32(x.count)
  x.withUnsafeBufferPointer { xBuffer in
    y.withUnsafeMutableBufferPointer { yBuffer in
      cblas_saxpy(count, alpha, xBuffer.baseAddress, 1, yBuffer.baseAddress, 1)
    }
  }
}

/// Multiplies every element of `x` by `alpha`. Calls `cblas_sscal`.
public func scale(_ x: inout [Float], by alpha: Float) {
  let count = Int32(x.count)
  x.withUnsafeMutableBufferPointer { buffer in
    cblas_sscal(count, alpha, buffer.baseAddress, 1)
  }
}

/// Returns the dot product of `x` and `y`. Calls `cblas_sdot`.
/// - Precondition: `x.count == y.count`.
public func dot(_ x: [Float], _ y: [Float]) -> Float {
  precondition(x.count == y.count, "dot lengths differ: \(x.count) vs \(y.count)")
  let count = Int32(x.count)
  return x.withUnsafeBufferPointer { xBuffer in
    y.withUnsafeBufferPointer { yBuffer in
      cblas_sdot(count, xBuffer.baseAddress, 1, yBuffer.baseAddress, 1)
    }
  }
}

/// Process-wide OpenBLAS thread count.
///
/// Federated sites train concurrently, each in its own Swift task, so they
/// set one BLAS thread each instead of letting every product start a pool
/// sized to the machine.
public enum BLASThreads {
  /// The number of threads OpenBLAS uses for one call. Calls
  /// `openblas_get_num_threads`.
  public static var count: Int { Int(openblas_get_num_threads()) }

  /// Sets the number of threads OpenBLAS uses for one call (at least 1).
  /// The setting is global to the process. Calls `openblas_set_num_threads`.
  public static func set(_ count: Int) {
    precondition(count >= 1, "BLAS thread count must be at least 1, got \(count)")
    openblas_set_num_threads(Int32(count))
  }
}

/// The matrix kernel that OpenBLAS chose for this CPU at load time.
///
/// Products round differently from one kernel to another, so a seeded run
/// repeats bit for bit only under the same kernel. OpenBLAS reads the
/// environment variable `OPENBLAS_CORETYPE` at load time to pin it.
public enum BLASKernel {
  /// The kernel's name as OpenBLAS reports it (for example `Zen` or
  /// `Haswell`). Calls `openblas_get_corename`.
  public static var name: String { String(cString: openblas_get_corename()) }
}
