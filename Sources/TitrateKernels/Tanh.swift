/// Returns tanh(x) from a rational approximation, `x P(s) / Q(s)` with
/// `s = min(x^2, 81)` and `P` and `Q` of degree 4 in `s`, so that loops over
/// buffers of this function vectorise.
///
/// glibc's `tanhf` does not vectorise and made tanh the largest part of a
/// 2x64 forward pass. The coefficients come from
/// `scripts/bench/fit_tanh_rational.py` (a minimax fit of the absolute error
/// on [0, 9], 2.0e-8 in exact arithmetic). `P(0) = Q(0) = 1`, so the slope at 0
/// is exactly 1 and small arguments keep their relative accuracy.
///
/// Evaluated in Float, the absolute error against Double `tanh` is at most
/// about 4.1e-7 (3.5 Float ulps of 1), checked on a dense grid in
/// `FastTanhTests`. The rounding also makes the function not quite
/// monotonic near 1, with steps of up to about 4e-7 the wrong way.
///
/// tanh(9) is 1 - 3e-8, below half a Float ulp of 1, and the approximation
/// at 9 rounds to 1.0000001. For |x| > 9 the polynomials stay at their
/// values for 9 and the factor x only grows, so clamping the result to
/// [-1, 1] makes every |x| >= 9 return exactly 1 in magnitude. Clamping
/// `x^2` instead of `x` saves one operation, and infinite `x^2` clamps to
/// 81 too. NaN propagates through both clamps, the function is odd, and
/// `-0` maps to `-0`.
///
/// Swift does not contract `a * b + c` into a fused multiply-add, so the
/// result is the same whether the build targets baseline x86-64 or a CPU
/// with FMA.
@inlinable @inline(__always)
public func fastTanh(_ x: Float) -> Float {
  // `min` and `max` return their first argument when the comparison is
  // false, which keeps NaN.
  let s = min(x * x, 81)

  var numerator: Float = 1.333_796_8e-8
  numerator = numerator * s + 2.059_603e-5
  numerator = numerator * s + 3.494_755_4e-3
  numerator = numerator * s + 1.338_031_6e-1
  numerator = numerator * s + 1

  var denominator: Float = 7.769_424_4e-7
  denominator = denominator * s + 3.284_299_5e-4
  denominator = denominator * s + 2.587_378e-2
  denominator = denominator * s + 4.671_363_2e-1
  denominator = denominator * s + 1

  let result = x * numerator / denominator
  return min(max(result, -1), 1)
}

/// Adds `bias[column]` to each element of a row-major `rows x columns`
/// block and replaces it with `fastTanh` of the sum: the hidden-layer step
/// after `x W^T`, rounded exactly as `addBias` followed by `fastTanh`.
@inlinable @inline(__always)
public func addBiasAndApplyFastTanh(
  _ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
  bias: UnsafePointer<Float>
) {
  for row in 0..<rows {
    let rowValues = values + row * columns
    for column in 0..<columns {
      rowValues[column] = fastTanh(rowValues[column] + bias[column])
    }
  }
}

/// Replaces each of `count` contiguous values with its `fastTanh`.
@inlinable @inline(__always)
public func applyFastTanh(_ values: UnsafeMutablePointer<Float>, count: Int) {
  for index in 0..<count {
    values[index] = fastTanh(values[index])
  }
}
