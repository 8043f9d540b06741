import CSodium

/// XChaCha20-Poly1305 authenticated encryption with associated data
/// (`crypto_aead_xchacha20poly1305_ietf_*`), used to send Shamir shares
/// from one site to another through the server.
///
/// The 192-bit nonce is drawn at random for every message and sent in
/// front of the ciphertext, which is safe for random nonces of that size.
public enum AuthenticatedEncryption {
  /// Key length in bytes.
  public static let keyByteCount = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
  /// Nonce length in bytes.
  public static let nonceByteCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
  /// Authentication tag length in bytes.
  public static let tagByteCount = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)

  /// Encrypts `plaintext` and authenticates it together with
  /// `associatedData`, which is not encrypted. Returns nonce, then
  /// ciphertext and tag: 40 bytes longer than the plaintext.
  /// - Throws: `SodiumError.invalidLength` unless the key has 32 bytes.
  public static func seal(
    _ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8],
    randomness: inout RandomByteSource
  ) throws(SodiumError) -> [UInt8] {
    try requireLength(key, keyByteCount, function: "crypto_aead_xchacha20poly1305_ietf_encrypt")
    let nonce = randomness.bytes(count: nonceByteCount)
    var ciphertext = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
    var written: UInt64 = 0
    _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
      &ciphertext, &written, plaintext, UInt64(plaintext.count), associatedData,
      UInt64(associatedData.count), nil, nonce, key)
    return nonce + ciphertext.prefix(Int(written))
  }

  /// Checks and decrypts a message made by `seal`.
  /// - Throws: `SodiumError.authenticationFailed` when the message or the
  ///   associated data was altered or the key is wrong. `.invalidLength`
  ///   for a wrong key length or a message shorter than nonce and tag.
  public static func open(
    _ sealed: [UInt8], key: [UInt8], associatedData: [UInt8]
  ) throws(SodiumError) -> [UInt8] {
    try requireLength(key, keyByteCount, function: "crypto_aead_xchacha20poly1305_ietf_decrypt")
    guard sealed.count >= nonceByteCount + tagByteCount else {
      throw .invalidLength(
        function: "crypto_aead_xchacha20poly1305_ietf_decrypt", received: sealed.count,
        expected: nonceByteCount + tagByteCount)
    }
    let nonce = Array(sealed.prefix(nonceByteCount))
    let ciphertext = Array(sealed.dropFirst(nonceByteCount))
    var plaintext = [UInt8](repeating: 0, count: ciphertext.count - tagByteCount)
    var written: UInt64 = 0
    let status = crypto_aead_xchacha20poly1305_ietf_decrypt(
      &plaintext, &written, nil, ciphertext, UInt64(ciphertext.count), associatedData,
      UInt64(associatedData.count), nonce, key)
    guard status == 0 else { throw .authenticationFailed }
    return Array(plaintext.prefix(Int(written)))
  }
}
