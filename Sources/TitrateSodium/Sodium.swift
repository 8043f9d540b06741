import CSodium

/// A libsodium call that failed, with the function's name and what it
/// means for the caller.
public enum SodiumError: Error, Equatable, CustomStringConvertible {
  /// `sodium_init` returned -1: the library could not set up its random
  /// number generator, so no key or nonce can be drawn.
  case initializationFailed
  /// A public key is invalid for X25519 (a low-order point gives an
  /// all-zero shared secret, which `crypto_scalarmult` rejects).
  case invalidPublicKey
  /// A ciphertext failed authentication: it was altered, truncated, or
  /// sealed under another key, nonce or associated data.
  case authenticationFailed
  /// A buffer has the wrong length for the named libsodium function.
  case invalidLength(function: String, received: Int, expected: Int)

  public var description: String {
    switch self {
    case .initializationFailed:
      return "sodium_init failed: libsodium could not seed its random number generator; "
        + "check that /dev/urandom or getrandom is available"
    case .invalidPublicKey:
      return "crypto_scalarmult rejected the peer's X25519 public key (a low-order point); "
        + "the peer must send a key made by crypto_scalarmult_base"
    case .authenticationFailed:
      return "crypto_aead_xchacha20poly1305_ietf_decrypt: the ciphertext failed authentication "
        + "(altered, truncated, or sealed for another key, nonce or header)"
    case .invalidLength(let function, let received, let expected):
      return "\(function): buffer of \(received) bytes, expected \(expected)"
    }
  }
}

/// Entry point to libsodium 1.0.18: initialisation and random bytes.
public enum Sodium {
  /// Initialises libsodium; safe to call more than once and from several
  /// threads (`sodium_init` returns 1 when it already ran).
  /// - Throws: `SodiumError.initializationFailed` when `sodium_init`
  ///   returns -1.
  public static func initialize() throws(SodiumError) {
    if sodium_init() < 0 { throw .initializationFailed }
  }

  /// Returns `count` bytes from the operating system's cryptographic random
  /// number generator (`randombytes_buf`).
  public static func randomBytes(count: Int) -> [UInt8] {
    precondition(count >= 0, "randomBytes: count \(count) must be non-negative")
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
      if let base = buffer.baseAddress { randombytes_buf(base, count) }
    }
    return bytes
  }

  /// Compares two byte strings in time that depends only on their length
  /// (`sodium_memcmp`); false when the lengths differ.
  public static func constantTimeEqual(_ first: [UInt8], _ second: [UInt8]) -> Bool {
    guard first.count == second.count else { return false }
    if first.isEmpty { return true }
    return first.withUnsafeBytes { a in
      second.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
    }
  }
}

func requireLength(_ bytes: [UInt8], _ expected: Int, function: String) throws(SodiumError) {
  if bytes.count != expected {
    throw .invalidLength(function: function, received: bytes.count, expected: expected)
  }
}
