import CSodium

/// An X25519 key pair (Curve25519 Diffie-Hellman, RFC 7748).
///
/// The secret key is 32 random bytes; the public key is
/// `crypto_scalarmult_base` of it.
public struct X25519KeyPair: Sendable, Equatable {
  /// Key length in bytes, for both halves (`crypto_scalarmult_BYTES`).
  public static let keyByteCount = 32

  /// The secret scalar, 32 bytes. Never sent, except as Shamir shares.
  public let secretKey: [UInt8]
  /// The public point, 32 bytes.
  public let publicKey: [UInt8]

  /// Creates the key pair of a given secret key, for example one rebuilt
  /// from Shamir shares.
  /// - Throws: `SodiumError.invalidLength` unless the key has 32 bytes.
  public init(secretKey: [UInt8]) throws(SodiumError) {
    try requireLength(secretKey, Self.keyByteCount, function: "crypto_scalarmult_base")
    var publicKey = [UInt8](repeating: 0, count: Self.keyByteCount)
    _ = crypto_scalarmult_base(&publicKey, secretKey)
    self.secretKey = secretKey
    self.publicKey = publicKey
  }

  /// Creates a key pair from 32 bytes of `source`.
  public init(randomFrom source: inout RandomByteSource) {
    // 32 bytes always pass the length check.
    try! self.init(secretKey: source.bytes(count: Self.keyByteCount))
  }

  /// Derives the 32-byte key this pair shares with a peer.
  ///
  /// The X25519 point `crypto_scalarmult(secret, peer)` is hashed with
  /// BLAKE2b-256 (`crypto_generichash`) together with both public keys in
  /// byte order and a context label. Both peers obtain the same key, and a
  /// different label gives an independent key from the same pair.
  /// `crypto_kx` is not used, because it gives the two peers different keys
  /// by role and the masks need one common key.
  /// - Throws: `SodiumError.invalidPublicKey` for a low-order peer key,
  ///   `.invalidLength` unless the peer key has 32 bytes.
  public func sharedKey(peerPublicKey: [UInt8], context: String) throws(SodiumError) -> [UInt8] {
    try requireLength(peerPublicKey, Self.keyByteCount, function: "crypto_scalarmult")
    var point = [UInt8](repeating: 0, count: Int(crypto_scalarmult_BYTES))
    if crypto_scalarmult(&point, secretKey, peerPublicKey) != 0 { throw .invalidPublicKey }
    let ordered =
      publicKey.lexicographicallyPrecedes(peerPublicKey)
      ? publicKey + peerPublicKey : peerPublicKey + publicKey
    let input = point + ordered + Array(context.utf8)
    var key = [UInt8](repeating: 0, count: 32)
    _ = crypto_generichash(&key, 32, input, UInt64(input.count), nil, 0)
    sodium_memzero(&point, point.count)
    return key
  }
}
