import CSodium

/// A source of key material: the operating system, or a ChaCha20 stream
/// under a fixed seed for reproducible tests.
///
/// A seeded source is as unpredictable as its seed and no more, because
/// anyone with the seed can rebuild every key. Use `.system` outside tests.
public struct RandomByteSource: Sendable {
  private enum Kind: Sendable {
    case system
    case seeded(key: [UInt8])
  }

  private let kind: Kind
  private var blockCounter: UInt64 = 0

  /// The operating system's generator (`randombytes_buf`).
  public static var system: RandomByteSource { RandomByteSource(kind: .system) }

  /// Returns a reproducible stream: ChaCha20 (`crypto_stream_chacha20_ietf`)
  /// keyed with BLAKE2b-256 of the seed, with a fresh nonce per request.
  public static func seeded(_ seed: UInt64) -> RandomByteSource {
    var seedBytes = withUnsafeBytes(of: seed.littleEndian) { Array($0) }
    seedBytes += Array("titrate.random-byte-source".utf8)
    var key = [UInt8](repeating: 0, count: 32)
    _ = crypto_generichash(&key, 32, seedBytes, UInt64(seedBytes.count), nil, 0)
    return RandomByteSource(kind: .seeded(key: key))
  }

  private init(kind: Kind) { self.kind = kind }

  /// Returns an independent source for sub-stream `stream`: the system
  /// generator again, or a seeded stream under BLAKE2b-256 of this key and
  /// `stream`, so that parties seeded from one test seed never share bytes.
  public func derived(stream: UInt64) -> RandomByteSource {
    switch kind {
    case .system:
      return .system
    case .seeded(let key):
      var input = key + withUnsafeBytes(of: stream.littleEndian) { Array($0) }
      input += Array("titrate.random-byte-source.derived".utf8)
      var derivedKey = [UInt8](repeating: 0, count: 32)
      _ = crypto_generichash(&derivedKey, 32, input, UInt64(input.count), nil, 0)
      return RandomByteSource(kind: .seeded(key: derivedKey))
    }
  }

  /// Returns `count` bytes.
  public mutating func bytes(count: Int) -> [UInt8] {
    switch kind {
    case .system:
      return Sodium.randomBytes(count: count)
    case .seeded(let key):
      blockCounter += 1
      return ChaCha20Stream(key: key, nonce: UInt64(blockCounter)).bytes(count: count)
    }
  }
}
