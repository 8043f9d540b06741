import TitrateSodium

/// One Shamir share: the point (x, f(x)) of the dealer's polynomial.
public struct ShamirShare: Sendable, Equatable, Hashable {
  /// The evaluation point x, in [1, p). The protocol uses the holder's
  /// site index plus one.
  public var x: UInt64
  /// f(x) mod p.
  public var y: UInt64

  /// Creates a share.
  public init(x: UInt64, y: UInt64) {
    self.x = x
    self.y = y
  }
}

/// A failure to combine shares.
public enum ShamirError: Error, Equatable, CustomStringConvertible {
  /// Fewer shares than the threshold were given.
  case tooFewShares(received: Int, threshold: Int)
  /// Two shares have the same x, or an x is 0 mod p.
  case invalidEvaluationPoint(x: UInt64)
  /// The shares of a chunked secret disagree in chunk count or points.
  case inconsistentChunks(detail: String)

  public var description: String {
    switch self {
    case .tooFewShares(let received, let threshold):
      return "Shamir reconstruction got \(received) shares, needs at least \(threshold) "
        + "(the threshold); collect shares from more holders"
    case .invalidEvaluationPoint(let x):
      return "Shamir share at x = \(x) is repeated or zero; each holder needs its own nonzero x"
    case .inconsistentChunks(let detail):
      return "Shamir shares of a chunked secret disagree: \(detail)"
    }
  }
}

/// Shamir's (t, n) threshold scheme (Shamir 1979) over a prime field.
///
/// The dealer hides secret s as f(0) of a random polynomial f of degree
/// t - 1 and gives holder i the value f(x_i). Any t shares determine f by
/// Lagrange interpolation. Any t - 1 shares are consistent with every
/// secret in the field, each through exactly one polynomial, so they
/// carry no information about s (perfect secrecy).
public struct ShamirSecretSharing: Sendable {
  /// The field of the polynomial.
  public let field: PrimeField
  /// t, the number of shares that reconstruct the secret, >= 1.
  public let threshold: Int

  /// Creates the scheme.
  /// - Precondition: 1 <= threshold < p.
  public init(field: PrimeField, threshold: Int) {
    precondition(
      threshold >= 1 && UInt64(threshold) < field.modulus,
      "ShamirSecretSharing: threshold \(threshold) is outside 1..<\(field.modulus)")
    self.field = field
    self.threshold = threshold
  }

  /// Splits `secret` (reduced mod p) into one share per point in `points`,
  /// with polynomial coefficients a_1 ... a_(t-1) from `randomWord`.
  /// - Precondition: points are distinct, nonzero mod p, and at least t.
  public func split(
    _ secret: UInt64, points: [UInt64], randomWord: () -> UInt64
  ) -> [ShamirShare] {
    precondition(
      points.count >= threshold,
      "Shamir split: \(points.count) holders, fewer than the threshold \(threshold)")
    precondition(
      Set(points.map(field.reduce)).count == points.count
        && !points.contains { field.reduce($0) == 0 },
      "Shamir split: evaluation points \(points) must be distinct and nonzero mod p")
    var coefficients = [field.reduce(secret)]
    for _ in 1..<threshold { coefficients.append(field.uniformElement(next: randomWord)) }
    return points.map { ShamirShare(x: $0, y: evaluate(coefficients, at: $0)) }
  }

  /// Returns f(x) for coefficients a_0 ... a_(t-1) (Horner's rule).
  public func evaluate(_ coefficients: [UInt64], at x: UInt64) -> UInt64 {
    let point = field.reduce(x)
    var value: UInt64 = 0
    for coefficient in coefficients.reversed() {
      value = field.add(field.multiply(value, point), coefficient)
    }
    return value
  }

  /// Recovers f(0) from any t or more shares by Lagrange interpolation at
  /// 0: s = sum_i y_i prod_(j != i) x_j / (x_j - x_i). Only the first t
  /// shares are used.
  /// - Throws: `ShamirError.tooFewShares` below the threshold,
  ///   `.invalidEvaluationPoint` for a repeated or zero x.
  public func reconstruct(_ shares: [ShamirShare]) throws(ShamirError) -> UInt64 {
    guard shares.count >= threshold else {
      throw .tooFewShares(received: shares.count, threshold: threshold)
    }
    let used = Array(shares.prefix(threshold))
    var seen: Set<UInt64> = []
    for share in used {
      let x = field.reduce(share.x)
      if x == 0 || !seen.insert(x).inserted { throw .invalidEvaluationPoint(x: share.x) }
    }
    var secret: UInt64 = 0
    for (i, share) in used.enumerated() {
      var numerator: UInt64 = 1
      var denominator: UInt64 = 1
      for (j, other) in used.enumerated() where j != i {
        let xj = field.reduce(other.x)
        numerator = field.multiply(numerator, xj)
        denominator = field.multiply(denominator, field.subtract(xj, field.reduce(share.x)))
      }
      let basis = field.multiply(numerator, field.inverse(denominator))
      secret = field.add(secret, field.multiply(field.reduce(share.y), basis))
    }
    return secret
  }
}
