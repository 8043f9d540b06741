import Foundation

/// The outcome of one CURVE handshake that the ZAP handler judged.
public struct ZAPDecision: Sendable, Equatable {
  /// The name the allow-list gives the client key; nil when refused.
  public var clientName: String?
  /// The peer's IP address as libzmq reports it.
  public var address: String
  /// The first 8 Z85 characters of the client's public key, enough to
  /// tell keys apart in a log. Public keys are not secret, but the log
  /// keeps only this prefix.
  public var keyPrefix: String
  /// The ZAP status code: 200 admitted, 400 refused.
  public var statusCode: Int
}

/// A ZAP (ZeroMQ Authentication Protocol, RFC 27) handler that admits
/// CURVE clients whose public key is on an allow-list and refuses every
/// other client before any message of theirs reaches the server socket.
///
/// It serves `inproc://zeromq.zap.01` on a thread of its own in the given
/// context; libzmq asks it once per handshake on every socket of that
/// context that set a ZAP domain. The user id it returns is the client's
/// name, which `ZMQMessage.userID` then carries on each of that client's
/// messages.
public final class ZAPAuthenticator: @unchecked Sendable {
  /// The admitted keys (Z85) and the client name of each.
  public let allowedKeys: [String: String]
  private let socket: ZMQSocket
  private let onDecision: @Sendable (ZAPDecision) -> Void
  private let lock = NSLock()
  private var stopping = false
  private let finished = DispatchSemaphore(value: 0)

  /// Starts the handler.
  /// - Parameters:
  ///   - allowedKeys: public keys (Z85) mapped to client names.
  ///   - onDecision: called on the handler's thread after each decision.
  /// - Throws: `ZMQError` when the ZAP endpoint cannot be bound, for
  ///   example because another handler already serves this context.
  public init(
    context: ZMQContext, allowedKeys: [String: String],
    onDecision: @escaping @Sendable (ZAPDecision) -> Void = { _ in }
  ) throws(ZMQError) {
    self.allowedKeys = allowedKeys
    self.onDecision = onDecision
    socket = try ZMQSocket(context: context, type: .reply)
    try socket.bind("inproc://zeromq.zap.01")
    let thread = Thread { [self] in serve() }
    thread.name = "titrate-zap"
    thread.start()
  }

  /// Stops the handler thread and waits for it; later handshakes fail.
  public func stop() {
    lock.lock()
    let alreadyStopping = stopping
    stopping = true
    lock.unlock()
    if !alreadyStopping { finished.wait() }
  }

  private var isStopping: Bool {
    lock.lock()
    defer { lock.unlock() }
    return stopping
  }

  private func serve() {
    defer { finished.signal() }
    while !isStopping {
      guard let request = try? socket.receive(timeoutMilliseconds: 100) else { continue }
      let reply = decide(request.frames)
      try? socket.send(reply)
    }
  }

  /// Returns the ZAP reply to one request. Frames: version, request id,
  /// domain, address, routing id, mechanism, then the mechanism's
  /// credentials (for CURVE, the 32-byte client public key).
  private func decide(_ frames: [[UInt8]]) -> [[UInt8]] {
    let requestID = frames.count > 1 ? frames[1] : []
    func reply(_ code: String, _ text: String, user: String) -> [[UInt8]] {
      [Array("1.0".utf8), requestID, Array(code.utf8), Array(text.utf8), Array(user.utf8), []]
    }
    guard frames.count >= 7, frames[0] == Array("1.0".utf8) else {
      return reply("500", "malformed ZAP request", user: "")
    }
    let address = String(decoding: frames[3], as: UTF8.self)
    let mechanism = String(decoding: frames[5], as: UTF8.self)
    guard mechanism == "CURVE", frames[6].count == 32 else {
      onDecision(ZAPDecision(clientName: nil, address: address, keyPrefix: "", statusCode: 400))
      return reply("400", "only CURVE clients are admitted", user: "")
    }
    let key = CurveKeyPair.encode(frames[6])
    let prefix = String(key.prefix(8))
    guard let name = allowedKeys[key] else {
      onDecision(ZAPDecision(clientName: nil, address: address, keyPrefix: prefix, statusCode: 400))
      return reply("400", "public key not on the allow-list", user: "")
    }
    onDecision(ZAPDecision(clientName: name, address: address, keyPrefix: prefix, statusCode: 200))
    return reply("200", "OK", user: name)
  }
}
