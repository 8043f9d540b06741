import TitrateSodium

/// One holder's share of a 32-byte secret (an X25519 secret key or a mask
/// seed), split in 32-bit chunks.
///
/// Why chunks: the protocol's field is GF(2^61 - 1), so that products fit
/// the 128-bit multiply and no big-integer code is needed. A 256-bit key
/// does not fit one element, so it is cut into eight 32-bit chunks and
/// each chunk is shared with its own independent random polynomial. Each
/// chunk's t - 1 shares are uniform whatever the chunk is, and the
/// polynomials are independent, so t - 1 shares of all eight chunks
/// together are independent of the whole key.
public struct KeyShare: Sendable, Equatable {
  /// Chunks per 32-byte key.
  public static let chunkCount = 8
  /// Bytes of one encoded share: x, then the eight chunk values, as
  /// little-endian `UInt64`.
  public static let encodedByteCount = 8 * (1 + chunkCount)

  /// The evaluation point, the same for every chunk.
  public var x: UInt64
  /// f_c(x) for chunk c = 0 ... 7.
  public var values: [UInt64]

  /// Creates a share.
  public init(x: UInt64, values: [UInt64]) {
    self.x = x
    self.values = values
  }

  /// Returns the share as bytes.
  public func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.append(x)
    for value in values { writer.append(value) }
    return writer.bytes
  }

  /// Decodes a share written by `encoded()`.
  /// - Throws: `MessageDecodingError` for a wrong length.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    var reader = ByteReader(bytes, message: "key share")
    x = try reader.readUInt64()
    values = try (0..<Self.chunkCount).map { _ throws(MessageDecodingError) in
      try reader.readUInt64()
    }
    try reader.expectEnd()
  }
}

extension ShamirSecretSharing {
  /// Splits a 32-byte secret into one `KeyShare` per point, chunk by
  /// chunk (see `KeyShare`).
  /// - Precondition: the field is larger than 2^32 and `secret` has 32
  ///   bytes.
  public func splitKey(
    _ secret: [UInt8], points: [UInt64], randomness: inout RandomByteSource
  ) -> [KeyShare] {
    precondition(secret.count == 32, "splitKey: secret has \(secret.count) bytes, expected 32")
    precondition(field.modulus > 1 << 32, "splitKey: the field must be larger than 2^32")
    var shares = points.map { KeyShare(x: $0, values: []) }
    for chunk in 0..<KeyShare.chunkCount {
      var value: UInt64 = 0
      for byte in 0..<4 { value |= UInt64(secret[chunk * 4 + byte]) << (8 * byte) }
      let chunkShares = split(value, points: points) { randomness.word() }
      for index in shares.indices { shares[index].values.append(chunkShares[index].y) }
    }
    return shares
  }

  /// Rebuilds a 32-byte secret from t or more `KeyShare`s.
  /// - Throws: `ShamirError` for too few shares, repeated points, a
  ///   malformed share, or a chunk that does not decode to 32 bits (which
  ///   means shares of different secrets were mixed).
  public func reconstructKey(_ shares: [KeyShare]) throws(ShamirError) -> [UInt8] {
    for share in shares where share.values.count != KeyShare.chunkCount {
      throw .inconsistentChunks(
        detail: "share at x = \(share.x) has \(share.values.count) chunks, expected 8")
    }
    var secret: [UInt8] = []
    for chunk in 0..<KeyShare.chunkCount {
      let value = try reconstruct(shares.map { ShamirShare(x: $0.x, y: $0.values[chunk]) })
      guard value < 1 << 32 else {
        throw .inconsistentChunks(detail: "chunk \(chunk) decodes to \(value), above 2^32")
      }
      for byte in 0..<4 { secret.append(UInt8(truncatingIfNeeded: value >> (8 * byte))) }
    }
    return secret
  }
}

extension RandomByteSource {
  /// Returns 8 bytes as a little-endian `UInt64`.
  mutating func word() -> UInt64 {
    let raw = bytes(count: 8)
    var value: UInt64 = 0
    for (index, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * index) }
    return value
  }
}
