import Testing
import TitrateSodium

@testable import TitrateSecureAggregation

@Suite struct ShamirSecretSharingTests {
  let small = PrimeField(modulus: 11)

  /// f(x) = 5 + 3x + 7x^2 over GF(11): f(1) = 15 = 4, f(2) = 39 = 6,
  /// f(3) = 77 = 0 (mod 11). The Lagrange weights at 0 for x = 1, 2, 3 are
  /// 3, -3 and 1, so s = 4 * 3 - 6 * 3 + 0 = -6 = 5 (mod 11).
  @Test func handWorkedSharesInGF11() throws {
    let sharing = ShamirSecretSharing(field: small, threshold: 3)
    #expect(sharing.evaluate([5, 3, 7], at: 1) == 4)
    #expect(sharing.evaluate([5, 3, 7], at: 2) == 6)
    #expect(sharing.evaluate([5, 3, 7], at: 3) == 0)
    let shares = [ShamirShare(x: 1, y: 4), ShamirShare(x: 2, y: 6), ShamirShare(x: 3, y: 0)]
    #expect(try sharing.reconstruct(shares) == 5)
    #expect(try sharing.reconstruct(shares.reversed()) == 5)
  }

  /// f(x) = 2 + x over GF(7), shares at x = 3 and 5: f(3) = 5, f(5) = 0.
  /// Weights 5 / (5 - 3) = 6 and 3 / (3 - 5) = 2 (mod 7): 5 * 6 + 0 = 30 = 2.
  @Test func handWorkedLineInGF7() throws {
    let sharing = ShamirSecretSharing(field: PrimeField(modulus: 7), threshold: 2)
    #expect(try sharing.reconstruct([ShamirShare(x: 3, y: 5), ShamirShare(x: 5, y: 0)]) == 2)
  }

  @Test func fieldArithmeticAgreesWithDefinitions() {
    let field = PrimeField.mersenne61
    let p = field.modulus
    #expect(field.add(p - 1, 5) == 4)
    #expect(field.subtract(3, 5) == p - 2)
    #expect(field.multiply(p - 1, p - 1) == 1)
    #expect(field.multiply(1 << 40, 1 << 40) == 1 << 19)  // 2^80 = 2^19 * 2^61 = 2^19
    for value: UInt64 in [1, 2, 12_345, p - 2] {
      #expect(field.multiply(value, field.inverse(value)) == 1)
    }
  }

  /// t - 1 = 2 shares (x = 1 -> 4, x = 2 -> 6) of a degree-2 polynomial
  /// over GF(11): for every candidate secret exactly one polynomial fits
  /// them, so they carry no information about the secret.
  @Test func belowThresholdSharesFitEverySecret() {
    let sharing = ShamirSecretSharing(field: small, threshold: 3)
    for secret: UInt64 in 0..<11 {
      var fits = 0
      for a1: UInt64 in 0..<11 {
        for a2: UInt64 in 0..<11 {
          let coefficients = [secret, a1, a2]
          if sharing.evaluate(coefficients, at: 1) == 4 && sharing.evaluate(coefficients, at: 2) == 6 {
            fits += 1
          }
        }
      }
      #expect(fits == 1, "secret \(secret) fits \(fits) polynomials")
    }
  }

  @Test func randomSecretsRoundTripFromAnySubset() throws {
    var randomness = RandomByteSource.seeded(7)
    let sharing = ShamirSecretSharing(field: .mersenne61, threshold: 4)
    for trial in 0..<50 {
      let secret = PrimeField.mersenne61.uniformElement { randomness.word() }
      let shares = sharing.split(secret, points: Array(1...9)) { randomness.word() }
      let offset = trial % 6
      let subset = [shares[offset + 2], shares[8], shares[offset], shares[offset + 1]]
      #expect(try sharing.reconstruct(subset) == secret)
    }
  }

  @Test func reconstructRejectsTooFewShares() {
    let sharing = ShamirSecretSharing(field: small, threshold: 3)
    #expect(throws: ShamirError.tooFewShares(received: 2, threshold: 3)) {
      try sharing.reconstruct([ShamirShare(x: 1, y: 4), ShamirShare(x: 2, y: 6)])
    }
    #expect(throws: ShamirError.invalidEvaluationPoint(x: 1)) {
      try sharing.reconstruct([
        ShamirShare(x: 1, y: 4), ShamirShare(x: 1, y: 6), ShamirShare(x: 3, y: 0),
      ])
    }
  }

  @Test func keySharesRebuildThe32ByteKey() throws {
    var randomness = RandomByteSource.seeded(3)
    let key = randomness.bytes(count: 32)
    let sharing = ShamirSecretSharing(field: .mersenne61, threshold: 3)
    let shares = sharing.splitKey(key, points: [2, 5, 6, 9, 11], randomness: &randomness)
    #expect(try sharing.reconstructKey([shares[4], shares[0], shares[2]]) == key)
    #expect(try sharing.reconstructKey([shares[1], shares[3], shares[4]]) == key)
    #expect(throws: ShamirError.tooFewShares(received: 2, threshold: 3)) {
      try sharing.reconstructKey([shares[1], shares[3]])
    }
    let decoded = try KeyShare(decoding: shares[2].encoded())
    #expect(decoded == shares[2])
    #expect(shares[2].encoded().count == KeyShare.encodedByteCount)
  }
}
