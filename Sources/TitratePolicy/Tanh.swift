/// Returns tanh(x) as `sign(x) * (1 - t) / (1 + t)` with `t = exp(-2|x|)`,
/// computing the exponential without a libm call so that loops over
/// buffers of this function vectorise.
///
/// Calls to glibc's `tanhf` or `expf` do not vectorise, and made tanh the
/// largest part of a 2x64 forward pass. Here `exp(y)` for `y = -2 min(|x|, 9)` in [-18, 0] is
/// `2^n * exp(r)` with `n = round(y / ln 2)` and `|r| <= ln(2) / 2`:
/// - `n` comes from adding and subtracting 1.5 * 2^23, which rounds to the
///   nearest integer in the default rounding mode and leaves `n` in the
///   low bits of the sum's bit pattern, from which `2^n` is assembled;
/// - `r = y - n * ln2High - n * ln2Low`, where `ln2High` has 14
///   significant bits so that `n * ln2High` is exact for `|n| <= 26`;
/// - `exp(r)` is a degree-6 polynomial with leading terms `1 + r`, fitted
///   here by least squares with Lawson reweighting towards minimax
///   relative error on `|r| <= ln(2) / 2` (3.1e-9 before rounding the
///   coefficients to Float, 8.3e-8 as evaluated in Float).
///
/// From `|x| = 9` on, `t` is at most 1.6e-8, below half a Float ulp of 1,
/// so `1 - t` and `1 + t` round to 1 and the result is exactly 1 in
/// magnitude. Clamping there keeps `2^n` a normal number. The absolute error
/// stays within about 2 Float ulps of 1, checked in `FastTanhTests`. Near 0
/// the cancellation in `1 - t` costs relative accuracy, not absolute. NaN
/// propagates, and the result has the sign of `x` (so `-0` maps to `-0`).
///
/// Swift does not contract `a * b + c` into a fused multiply-add, so the
/// result is the same whether the build targets baseline x86-64 or a CPU
/// with FMA.
@inline(__always)
func fastTanh(_ x: Float) -> Float {
  let roundingShift: Float = 12_582_912  // 1.5 * 2^23
  let log2OfE: Float = 1.442_695_021_629_333_5
  let ln2High: Float = 0.693_176_269_531_25
  let ln2Low: Float = -2.908_897_113_229_613_8e-5

  // `min` keeps NaN because `9 < NaN` is false.
  let magnitude = min(abs(x), 9)
  let y = -2 * magnitude
  let shifted = y * log2OfE + roundingShift
  let n = shifted - roundingShift
  let r = (y - n * ln2High) - n * ln2Low

  var polynomial: Float = 0.001_381_461_275_741_458
  polynomial = polynomial * r + 0.008_368_710_055_947_301
  polynomial = polynomial * r + 0.041_668_388_992_547_99
  polynomial = polynomial * r + 0.166_665_211_319_923_4
  polynomial = polynomial * r + 0.499_999_940_395_355_2
  polynomial = polynomial * r + 1
  polynomial = polynomial * r + 1

  // The bit pattern of `shifted` is that of the shift plus `n`, so their
  // difference is `n`, and `(n + 127) << 23` is the pattern of 2^n.
  let exponentBits = (shifted.bitPattern &- roundingShift.bitPattern &+ 127) &<< 23
  let t = polynomial * Float(bitPattern: exponentBits)
  let result = (1 - t) / (1 + t)
  return Float(signOf: x, magnitudeOf: result)
}

/// Adds `bias[column]` to each element of a row-major `rows x columns`
/// block and replaces it with `fastTanh` of the sum: the hidden-layer step
/// after `x W^T`, rounded exactly as `addBias` followed by `fastTanh`.
func addBiasAndApplyFastTanh(
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
