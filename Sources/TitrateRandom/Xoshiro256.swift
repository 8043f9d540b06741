/// Seedable pseudo-random generator: xoshiro256** (Blackman and Vigna,
/// "Scrambled linear pseudorandom number generators", ACM TOMS 2021).
///
/// Every random draw in Titrate goes through this type so that a run is
/// reproducible from its seed. The full state is four `UInt64` words, which
/// checkpoints store and restore exactly (`state`, `init(state:)`).
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable {
  // The four state words as stored properties rather than an array, so
  // that `next()` runs without bounds checks or copy-on-write checks.
  private var word0: UInt64
  private var word1: UInt64
  private var word2: UInt64
  private var word3: UInt64

  /// The four state words, in the order `init(state:)` takes them.
  public var state: [UInt64] { [word0, word1, word2, word3] }

  /// Creates a generator whose four state words are expanded from `seed`
  /// with SplitMix64, as the xoshiro authors recommend.
  public init(seed: UInt64) {
    var splitMix = seed
    var words: [UInt64] = []
    for _ in 0..<4 {
      splitMix &+= 0x9E37_79B9_7F4A_7C15
      var z = splitMix
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      words.append(z ^ (z >> 31))
    }
    (word0, word1, word2, word3) = (words[0], words[1], words[2], words[3])
  }

  /// Restores a generator from a stored state.
  /// - Precondition: `state` has four words, not all zero.
  public init(state: [UInt64]) {
    precondition(state.count == 4, "xoshiro256 state needs 4 words, got \(state.count)")
    precondition(state.contains { $0 != 0 }, "xoshiro256 state must not be all zero")
    (word0, word1, word2, word3) = (state[0], state[1], state[2], state[3])
  }

  /// Derives an independent generator for a named stream (a site, a
  /// patient cohort, a purpose) from a base seed, so that adding a stream
  /// never shifts the draws of another.
  public init(seed: UInt64, stream: UInt64) {
    self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
  }

  @inline(__always)
  public mutating func next() -> UInt64 {
    let result = rotateLeft(word1 &* 5, by: 7) &* 9
    let shifted = word1 << 17
    word2 ^= word0
    word3 ^= word1
    word1 ^= word2
    word0 ^= word3
    word2 ^= shifted
    word3 = rotateLeft(word3, by: 45)
    return result
  }

  @inline(__always)
  private func rotateLeft(_ value: UInt64, by count: UInt64) -> UInt64 {
    (value << count) | (value >> (64 - count))
  }
}

extension RandomNumberGenerator {
  /// Returns a uniform draw in the open interval (0, 1) with 53 random bits.
  public mutating func nextUniform() -> Double {
    (Double(next() >> 11) + 0.5) * 0x1.0p-53
  }

  /// Returns a standard normal draw (Box-Muller; one of the pair is used,
  /// so the number of draws consumed per call is fixed).
  public mutating func nextStandardNormal() -> Double {
    let u1 = nextUniform()
    let u2 = nextUniform()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }

  /// Returns two independent standard normal draws from one Box-Muller
  /// transform (both the cosine and the sine branch), for half the cost of
  /// two `nextStandardNormal()` calls. The first value equals what
  /// `nextStandardNormal()` returns from the same generator state.
  public mutating func nextStandardNormalPair() -> (Double, Double) {
    let u1 = nextUniform()
    let u2 = nextUniform()
    let radius = (-2 * _log(u1)).squareRoot()
    let angle = 2 * Double.pi * u2
    return (radius * _cos(angle), radius * _sin(angle))
  }
}

#if canImport(Glibc)
  import Glibc
  @inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
  @inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
  @inline(__always) func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#else
  import Foundation
  @inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
  @inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
  @inline(__always) func _sin(_ x: Double) -> Double { Foundation.sin(x) }
#endif
