import CZMQ

/// A CURVE (Curve25519) key pair in ZeroMQ's Z85 text form: 40 characters
/// per 32-byte key.
public struct CurveKeyPair: Sendable, Equatable {
  /// The public key, Z85 encoded (40 characters). Safe to share.
  public var publicKey: String
  /// The secret key, Z85 encoded (40 characters). Never leaves its owner.
  public var secretKey: String

  public init(publicKey: String, secretKey: String) {
    self.publicKey = publicKey
    self.secretKey = secretKey
  }

  /// Generates a fresh key pair from libsodium's random source (calls
  /// `zmq_curve_keypair`).
  /// - Throws: `ZMQError` when libzmq was built without CURVE.
  public static func generate() throws(ZMQError) -> CurveKeyPair {
    var publicText = [CChar](repeating: 0, count: 41)
    var secretText = [CChar](repeating: 0, count: 41)
    try check(zmq_curve_keypair(&publicText, &secretText), "zmq_curve_keypair")
    return CurveKeyPair(
      publicKey: stringFromBuffer(publicText), secretKey: stringFromBuffer(secretText))
  }

  /// Rebuilds the key pair of a Z85 secret key, deriving its public key
  /// (calls `zmq_curve_public`).
  /// - Throws: `ZMQError` when `secretKey` is not a 40-character Z85 key.
  public init(secretKey: String) throws(ZMQError) {
    _ = try CurveKeyPair.decode(secretKey, role: "secret key")
    var publicText = [CChar](repeating: 0, count: 41)
    try check(zmq_curve_public(&publicText, secretKey), "zmq_curve_public")
    self.init(publicKey: stringFromBuffer(publicText), secretKey: secretKey)
  }

  /// Decodes a Z85 key to its 32 bytes (calls `zmq_z85_decode`).
  /// - Parameter role: what the key is, for the error message.
  /// - Throws: `ZMQError` naming the role when the text is not 40 Z85
  ///   characters.
  public static func decode(_ key: String, role: String) throws(ZMQError) -> [UInt8] {
    let invalid = ZMQError(
      call: "zmq_z85_decode", code: -1,
      message:
        "the \(role) is not a CURVE key: expected 40 Z85 characters, got "
        + "\(key.utf8.count); use a file written by 'titrate keys generate'")
    guard key.utf8.count == 40 else { throw invalid }
    var bytes = [UInt8](repeating: 0, count: 32)
    guard zmq_z85_decode(&bytes, key) != nil else { throw invalid }
    return bytes
  }

  /// Encodes 32 key bytes as Z85 text (calls `zmq_z85_encode`).
  public static func encode(_ bytes: [UInt8]) -> String {
    precondition(bytes.count == 32, "a CURVE key has 32 bytes, got \(bytes.count)")
    var text = [CChar](repeating: 0, count: 41)
    _ = zmq_z85_encode(&text, bytes, 32)
    return stringFromBuffer(text)
  }

  /// True when this libzmq supports CURVE (calls `zmq_has("curve")`).
  public static var isSupported: Bool { zmq_has("curve") == 1 }
}
