import CSodium

/// The ChaCha20 keystream (RFC 8439 variant, `crypto_stream_chacha20_ietf`)
/// under a full 256-bit key, used as the pseudorandom generator that
/// expands a mask seed into mask words.
///
/// The 96-bit nonce is the 64-bit `nonce` in little-endian order followed
/// by four zero bytes. The stream has a 32-bit block counter, so one key
/// and nonce give at most 2^32 blocks of 64 bytes (256 GiB).
public struct ChaCha20Stream: Sendable {
  /// Key length in bytes (`crypto_stream_chacha20_ietf_KEYBYTES`).
  public static let keyByteCount = 32

  private let key: [UInt8]
  private let nonce: [UInt8]

  /// Creates the stream for `key` (32 bytes) and a 64-bit nonce.
  public init(key: [UInt8], nonce: UInt64 = 0) {
    precondition(
      key.count == Self.keyByteCount,
      "ChaCha20Stream: key has \(key.count) bytes, expected \(Self.keyByteCount)")
    self.key = key
    self.nonce = withUnsafeBytes(of: nonce.littleEndian) { Array($0) } + [0, 0, 0, 0]
  }

  /// Returns the first `count` keystream bytes.
  public func bytes(count: Int) -> [UInt8] {
    precondition(count >= 0, "ChaCha20Stream.bytes: count \(count) must be non-negative")
    precondition(
      count <= (1 << 32) * 64, "ChaCha20Stream.bytes: \(count) bytes exceed 2^32 blocks")
    var output = [UInt8](repeating: 0, count: count)
    if count > 0 {
      _ = crypto_stream_chacha20_ietf(&output, UInt64(count), nonce, key)
    }
    return output
  }

  /// Returns the first `count` keystream words: each 8 bytes read as a
  /// little-endian `UInt64`, so every word is uniform on [0, 2^64).
  public func words(count: Int) -> [UInt64] {
    let raw = bytes(count: count * 8)
    var words = [UInt64](repeating: 0, count: count)
    raw.withUnsafeBytes { buffer in
      for index in 0..<count {
        words[index] = UInt64(
          littleEndian: buffer.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
      }
    }
    return words
  }
}
