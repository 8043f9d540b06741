/// Arithmetic modulo a prime p < 2^63, for Shamir secret sharing.
///
/// Elements are `UInt64` values in [0, p). Products go through the 128-bit
/// full-width multiply, so any p below 2^63 works. The caller chooses a
/// prime p. `init(modulus:)` checks it by trial division below 2^32, which
/// covers the small fields of the tests, and trusts larger moduli.
public struct PrimeField: Sendable, Equatable {
  /// The prime modulus p.
  public let modulus: UInt64

  /// The Mersenne prime 2^61 - 1, the field of the protocol's shares.
  public static let mersenne61 = PrimeField(uncheckedModulus: (1 << 61) - 1)

  /// Creates the field of integers modulo `modulus`.
  /// - Precondition: 2 <= modulus < 2^63, and modulus is prime when it is
  ///   below 2^32 (where the check is cheap).
  public init(modulus: UInt64) {
    precondition(
      modulus >= 2 && modulus < 1 << 63, "PrimeField: modulus \(modulus) is outside 2..<2^63")
    if modulus < 1 << 32 {
      precondition(Self.isPrime(modulus), "PrimeField: modulus \(modulus) is not prime")
    }
    self.modulus = modulus
  }

  private init(uncheckedModulus: UInt64) { modulus = uncheckedModulus }

  private static func isPrime(_ value: UInt64) -> Bool {
    if value < 4 { return value >= 2 }
    if value % 2 == 0 { return false }
    var divisor: UInt64 = 3
    while divisor * divisor <= value {
      if value % divisor == 0 { return false }
      divisor += 2
    }
    return true
  }

  /// Returns `value` mod p.
  public func reduce(_ value: UInt64) -> UInt64 { value % modulus }

  /// Returns (a + b) mod p for a, b in [0, p).
  public func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let sum = a &+ b  // below 2^64 because both are below 2^63
    return sum >= modulus ? sum - modulus : sum
  }

  /// Returns (a - b) mod p for a, b in [0, p).
  public func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 {
    a >= b ? a - b : a &+ (modulus - b)
  }

  /// Returns (a * b) mod p for a, b in [0, p).
  public func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let product = a.multipliedFullWidth(by: b)
    return modulus.dividingFullWidth((high: product.high, low: product.low)).remainder
  }

  /// Returns a^exponent mod p by square-and-multiply.
  public func power(_ base: UInt64, _ exponent: UInt64) -> UInt64 {
    var result: UInt64 = 1
    var square = reduce(base)
    var remaining = exponent
    while remaining > 0 {
      if remaining & 1 == 1 { result = multiply(result, square) }
      square = multiply(square, square)
      remaining >>= 1
    }
    return result
  }

  /// Returns the multiplicative inverse a^(p-2) mod p (Fermat).
  /// - Precondition: a is not 0 mod p.
  public func inverse(_ a: UInt64) -> UInt64 {
    precondition(reduce(a) != 0, "PrimeField.inverse: 0 has no inverse modulo \(modulus)")
    return power(a, modulus - 2)
  }

  /// Returns a field element drawn uniformly from the words of
  /// `randomWord`. Words at or above the largest multiple of p below 2^64
  /// are redrawn, so the result has no modulo bias.
  func uniformElement(next randomWord: () -> UInt64) -> UInt64 {
    let limit = UInt64.max - UInt64.max % modulus
    while true {
      let word = randomWord()
      if word < limit { return word % modulus }
    }
  }
}
