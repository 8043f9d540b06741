#if canImport(Glibc)
  import Glibc
#endif

/// Arithmetic on values stored as their natural logarithm, for the RDP
/// series whose terms span hundreds of orders of magnitude. log(0) is
/// -infinity.
enum LogSpace {
  /// log(exp(a) + exp(b)).
  static func add(_ a: Double, _ b: Double) -> Double {
    let low = min(a, b)
    let high = max(a, b)
    if low == -.infinity { return high }
    return high + log1p(exp(low - high))
  }

  /// log(exp(a) - exp(b)) for a >= b; -infinity when a == b.
  /// - Precondition: a >= b.
  static func subtract(_ a: Double, _ b: Double) -> Double {
    precondition(a >= b, "log-space subtraction would be negative: \(a) < \(b)")
    if b == -.infinity { return a }
    if a == b { return -.infinity }
    // exp(a) - exp(b) = exp(a) * (1 - exp(b - a)), and b - a < 0.
    return a + log(-expm1(b - a))
  }

  /// log|C(alpha, k)| for real alpha >= 0 and integer k >= 0, with the sign
  /// of C(alpha, k) = alpha (alpha - 1) ... (alpha - k + 1) / k!.
  ///
  /// For fractional alpha the coefficient is negative when an odd number of
  /// the factors alpha - j, j < k, are negative. `lgamma` returns log|Gamma|,
  /// so the log magnitude holds for negative arguments too.
  static func binomial(_ alpha: Double, _ k: Int) -> (logMagnitude: Double, isNegative: Bool) {
    let kValue = Double(k)
    if alpha == alpha.rounded(), kValue > alpha {
      return (-.infinity, false)
    }
    let logMagnitude = lgamma(alpha + 1) - lgamma(kValue + 1) - lgamma(alpha - kValue + 1)
    // Factors alpha - j are negative for j > alpha, that is for
    // j = floor(alpha) + 1, ..., k - 1.
    let negativeFactors = max(0, k - Int(alpha.rounded(.down)) - 1)
    return (logMagnitude, negativeFactors % 2 == 1)
  }

  /// log(erfc(x)), accurate in the tails where erfc(x) is near 2 or
  /// underflows.
  static func erfc(_ x: Double) -> Double {
    if x < 0 {
      // erfc(x) = 2 - erfc(-x); log1p keeps the small deficit from 2.
      return log(2) + log1p(-Glibc.erfc(-x) / 2)
    }
    if x < 26 {
      // erfc(26) is about 6e-296, still a normal Double.
      return log(Glibc.erfc(x))
    }
    // Asymptotic series erfc(x) = exp(-x^2) / (x sqrt(pi)) *
    // (1 - 1/(2x^2) + 3/(2x^2)^2 - 15/(2x^2)^3 + ...). At x >= 26 the
    // ratio of successive terms is below 0.0022 (2k - 1) / 1, so ten
    // terms are far below one ulp.
    let inverseTwiceSquare = 1 / (2 * x * x)
    var term = 1.0
    var sum = 1.0
    for k in 1...10 {
      term *= -Double(2 * k - 1) * inverseTwiceSquare
      sum += term
    }
    return -x * x - log(x) - 0.5 * log(Double.pi) + log(sum)
  }
}
