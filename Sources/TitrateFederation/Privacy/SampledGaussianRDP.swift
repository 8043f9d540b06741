#if canImport(Glibc)
  import Glibc
#endif

/// Renyi differential privacy of the sampled Gaussian mechanism (Mironov,
/// Talwar and Zhang, "Renyi Differential Privacy of the Sampled Gaussian
/// Mechanism", 2019). Each participant is included with probability q
/// (Poisson sampling), and its contribution is clipped to L2 norm C.
/// Gaussian noise of standard deviation z C is added to the sum.
///
/// For add/remove-one neighbours the RDP at order alpha > 1 is
/// log(A_alpha) / (alpha - 1), where A_alpha = E_{x ~ N(0, z^2)}[((1 - q) +
/// q exp((2x - 1) / (2 z^2)))^alpha]. Every sum runs in log space.
public enum SampledGaussianRDP {
  /// Largest number of series terms for a fractional order before the
  /// result is reported as +infinity, a safe upper bound.
  static let maximumTerms = 1_000_000

  /// Returns the RDP of one round at `order`, in nats.
  ///
  /// - Parameters:
  ///   - order: alpha > 1; integer values use the finite binomial sum,
  ///     fractional values the two-sided series of Mironov et al. (2019),
  ///     Section 3.3.
  ///   - samplingRate: q in [0, 1]. q = 0 gives 0; q = 1 is the plain
  ///     Gaussian mechanism, alpha / (2 z^2), exactly.
  ///   - noiseMultiplier: z >= 0, the noise standard deviation over the
  ///     clip norm. z = 0 gives +infinity.
  /// - Precondition: order > 1, q in [0, 1], z >= 0 (the accountant checks
  ///   these with typed errors first).
  public static func rdp(order: Double, samplingRate q: Double, noiseMultiplier z: Double)
    -> Double
  {
    precondition(order > 1, "RDP order must be above 1, got \(order)")
    precondition((0...1).contains(q), "sampling rate must be in [0, 1], got \(q)")
    precondition(z >= 0, "noise multiplier must be 0 or more, got \(z)")
    if q == 0 { return 0 }
    if z == 0 { return .infinity }
    if q == 1 { return order / (2 * z * z) }
    if order.isInfinite { return .infinity }
    let logA =
      order == order.rounded()
      ? logAIntegerOrder(Int(order), q: q, z: z) : logAFractionalOrder(order, q: q, z: z)
    return logA / (order - 1)
  }

  /// log A_alpha for integer alpha: the binomial expansion
  /// sum_k C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 z^2)).
  static func logAIntegerOrder(_ alpha: Int, q: Double, z: Double) -> Double {
    var logA = -Double.infinity
    let logQ = log(q)
    let logOneMinusQ = log1p(-q)
    for k in 0...alpha {
      let kValue = Double(k)
      let term =
        LogSpace.binomial(Double(alpha), k).logMagnitude + kValue * logQ
        + Double(alpha - k) * logOneMinusQ + (kValue * kValue - kValue) / (2 * z * z)
      logA = LogSpace.add(logA, term)
    }
    return logA
  }

  /// log A_alpha for fractional alpha: A_alpha = A0 + A1, the integrals
  /// below and above z0 = z^2 log(1/q - 1) + 1/2, each an infinite series
  /// with signed binomial coefficients C(alpha, k) and erfc factors.
  ///
  /// Positive and negative terms of each series are summed apart and
  /// subtracted when the estimate is read. Past k = alpha the terms
  /// alternate in sign and shrink like |C(alpha, k)| / k. The series stops
  /// once k > alpha and the newest term, relative to A_alpha, is below
  /// 1e-10 |log A_alpha| (floored at 1e-30), so that the RDP keeps about 10
  /// significant digits even when log A_alpha is near 1e-13, as at
  /// q = 1e-5. Opacus stops at an absolute e^-30 instead, which loses digits
  /// there.
  static func logAFractionalOrder(_ alpha: Double, q: Double, z: Double) -> Double {
    var positive0 = -Double.infinity
    var negative0 = -Double.infinity
    var positive1 = -Double.infinity
    var negative1 = -Double.infinity
    let z0 = z * z * log(1 / q - 1) + 0.5
    let logQ = log(q)
    let logOneMinusQ = log1p(-q)
    let scale = 2.0.squareRoot() * z

    for k in 0..<maximumTerms {
      let kValue = Double(k)
      let j = alpha - kValue
      let (logCoefficient, isNegative) = LogSpace.binomial(alpha, k)
      let logT0 = logCoefficient + kValue * logQ + j * logOneMinusQ
      let logT1 = logCoefficient + j * logQ + kValue * logOneMinusQ
      let logE0 = log(0.5) + LogSpace.erfc((kValue - z0) / scale)
      let logE1 = log(0.5) + LogSpace.erfc((z0 - j) / scale)
      let logS0 = logT0 + (kValue * kValue - kValue) / (2 * z * z) + logE0
      let logS1 = logT1 + (j * j - j) / (2 * z * z) + logE1
      if isNegative {
        negative0 = LogSpace.add(negative0, logS0)
        negative1 = LogSpace.add(negative1, logS1)
      } else {
        positive0 = LogSpace.add(positive0, logS0)
        positive1 = LogSpace.add(positive1, logS1)
      }
      guard kValue > alpha else { continue }
      // Each part is an integral of a positive function. If rounding makes
      // the negative sum exceed the positive one, the part is taken as 0.
      let part0 = LogSpace.subtract(positive0, min(negative0, positive0))
      let part1 = LogSpace.subtract(positive1, min(negative1, positive1))
      let logA = LogSpace.add(part0, part1)
      let tolerance = log(max(1e-10 * abs(logA), 1e-30))
      if max(logS0, logS1) - logA < tolerance {
        return logA
      }
    }
    // NOTE: no grid case of the tests reaches this; +infinity is the safe
    // result for an accountant, because it never understates the loss.
    return .infinity
  }
}
