import CZMQ

/// A failed ZeroMQ call: the function, its `errno` and libzmq's text for it.
public struct ZMQError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The libzmq function that failed, for example `zmq_bind`.
  public var call: String
  /// The `errno` value libzmq reported (`EAGAIN` for a timeout), or -1 for
  /// a check this wrapper makes before calling libzmq.
  public var code: Int32
  /// libzmq's description of the code (`zmq_strerror`), or the wrapper's
  /// reason.
  public var message: String

  public init(call: String, code: Int32, message: String) {
    self.call = call
    self.code = code
    self.message = message
  }

  /// Builds the error for the `errno` that libzmq left after `call` failed.
  static func last(_ call: String) -> ZMQError {
    let code = zmq_errno()
    return ZMQError(call: call, code: code, message: String(cString: zmq_strerror(code)))
  }

  /// True when the call failed because its timeout passed (`EAGAIN`).
  public var isTimeout: Bool { code == EAGAIN }

  public var description: String {
    "\(call) failed with errno \(code): \(message)"
  }
}

/// Throws the last libzmq error naming `call` when `result` is negative.
@inline(__always)
func check(_ result: Int32, _ call: String) throws(ZMQError) {
  if result < 0 { throw ZMQError.last(call) }
}

/// Decodes a NUL-terminated C string held in a `CChar` buffer.
func stringFromBuffer(_ buffer: [CChar]) -> String {
  let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}
