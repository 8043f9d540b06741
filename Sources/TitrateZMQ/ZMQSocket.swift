import CZMQ

/// A ZeroMQ context, which owns the I/O threads of its sockets (calls
/// `zmq_ctx_new`; `zmq_ctx_term` on release, after every socket closed).
public final class ZMQContext: @unchecked Sendable {
  let handle: UnsafeMutableRawPointer

  /// - Throws: `ZMQError` when libzmq cannot start its I/O thread.
  public init() throws(ZMQError) {
    guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
    self.handle = handle
  }

  private var isTerminated = false

  deinit { terminate() }

  /// Shuts the context down (calls `zmq_ctx_term`). It blocks until every
  /// socket of the context is closed and their linger periods have passed,
  /// so queued messages get out before the process exits.
  public func terminate() {
    guard !isTerminated else { return }
    isTerminated = true
    zmq_ctx_term(handle)
  }
}

/// The socket patterns this wrapper uses.
public enum ZMQSocketType: Int32, Sendable {
  /// Routes each message to and from a peer by its routing id (the
  /// aggregator).
  case router = 6
  /// Sends and receives asynchronously to one connected peer (a site).
  case dealer = 5
  /// Replies to each request in turn (the ZAP handler).
  case reply = 4
}

/// One message of one or more frames, with the identity the ZAP handler
/// gave its sender.
public struct ZMQMessage: Sendable, Equatable {
  /// The frames in order (a ROUTER socket puts the routing id first).
  public var frames: [[UInt8]]
  /// The `User-Id` the ZAP handler returned for the sending peer, nil on
  /// a socket without authentication.
  public var userID: String?
}

/// A ZeroMQ socket (calls `zmq_socket`; `zmq_close` on release).
///
/// A socket must be used by one thread at a time, as libzmq requires.
/// Linger is 0, so closing drops unsent messages instead of blocking.
public final class ZMQSocket: @unchecked Sendable {
  let handle: UnsafeMutableRawPointer
  /// The context the socket belongs to, kept alive until the socket closes.
  public let context: ZMQContext

  /// - Throws: `ZMQError` from `zmq_socket` or `zmq_setsockopt`.
  public init(context: ZMQContext, type: ZMQSocketType) throws(ZMQError) {
    guard let handle = zmq_socket(context.handle, type.rawValue) else {
      throw ZMQError.last("zmq_socket")
    }
    self.handle = handle
    self.context = context
    try setOption(ZMQ_LINGER, Int32(0), name: "ZMQ_LINGER")
  }

  private var isClosed = false

  deinit { if !isClosed { zmq_close(handle) } }

  /// Closes the socket, first giving libzmq up to `lingerMilliseconds` to
  /// deliver queued messages (calls `zmq_close` with `ZMQ_LINGER` set).
  /// Later calls on the socket are invalid.
  public func close(lingerMilliseconds: Int32) {
    guard !isClosed else { return }
    try? setOption(ZMQ_LINGER, lingerMilliseconds, name: "ZMQ_LINGER")
    zmq_close(handle)
    isClosed = true
  }

  /// Sets an integer socket option (calls `zmq_setsockopt`).
  public func setOption(_ option: Int32, _ value: Int32, name: String) throws(ZMQError) {
    var copy = value
    try check(
      zmq_setsockopt(handle, option, &copy, MemoryLayout<Int32>.size), "zmq_setsockopt(\(name))")
  }

  /// Sets a 64-bit integer socket option such as `ZMQ_MAXMSGSIZE`.
  public func setOption(_ option: Int32, _ value: Int64, name: String) throws(ZMQError) {
    var copy = value
    try check(
      zmq_setsockopt(handle, option, &copy, MemoryLayout<Int64>.size), "zmq_setsockopt(\(name))")
  }

  /// Sets a byte-string socket option such as a CURVE key.
  public func setOption(_ option: Int32, bytes: [UInt8], name: String) throws(ZMQError) {
    try check(zmq_setsockopt(handle, option, bytes, bytes.count), "zmq_setsockopt(\(name))")
  }

  /// Makes this socket a CURVE server with `secretKey` (Z85). Every peer
  /// must then hold the matching public key, and the ZAP handler of
  /// `domain` decides which client keys are admitted.
  public func makeCurveServer(secretKey: String, domain: String) throws(ZMQError) {
    try setOption(ZMQ_CURVE_SERVER, Int32(1), name: "ZMQ_CURVE_SERVER")
    try setOption(
      ZMQ_CURVE_SECRETKEY, bytes: try CurveKeyPair.decode(secretKey, role: "server secret key"),
      name: "ZMQ_CURVE_SECRETKEY")
    try setOption(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8), name: "ZMQ_ZAP_DOMAIN")
  }

  /// Makes this socket a CURVE client that only completes a handshake with
  /// the server holding `serverPublicKey` (all keys Z85).
  public func makeCurveClient(
    serverPublicKey: String, keyPair: CurveKeyPair
  ) throws(ZMQError) {
    try setOption(
      ZMQ_CURVE_SERVERKEY,
      bytes: try CurveKeyPair.decode(serverPublicKey, role: "server public key"),
      name: "ZMQ_CURVE_SERVERKEY")
    try setOption(
      ZMQ_CURVE_PUBLICKEY, bytes: try CurveKeyPair.decode(keyPair.publicKey, role: "public key"),
      name: "ZMQ_CURVE_PUBLICKEY")
    try setOption(
      ZMQ_CURVE_SECRETKEY, bytes: try CurveKeyPair.decode(keyPair.secretKey, role: "secret key"),
      name: "ZMQ_CURVE_SECRETKEY")
  }

  /// Makes a ROUTER socket fail with `EHOSTUNREACH` when a message names
  /// a routing id that no connected peer has, instead of dropping it.
  public func requireRoutablePeers() throws(ZMQError) {
    try setOption(ZMQ_ROUTER_MANDATORY, Int32(1), name: "ZMQ_ROUTER_MANDATORY")
  }

  /// Makes a ROUTER socket give a routing id that a new connection presents
  /// to that connection, closing the older one (`ZMQ_ROUTER_HANDOVER`), so
  /// a peer that reconnects with a fixed routing id is reachable at once.
  public func handOverRoutingIDs() throws(ZMQError) {
    try setOption(ZMQ_ROUTER_HANDOVER, Int32(1), name: "ZMQ_ROUTER_HANDOVER")
  }

  /// Gives this socket a random 16-byte routing id (`ZMQ_ROUTING_ID`). A
  /// ROUTER peer receives it as the routing id of every connection of this
  /// socket, reconnections included. Call it before `connect`.
  public func setRandomRoutingID() throws(ZMQError) {
    var routingID = (0..<16).map { _ in UInt8.random(in: 0...255) }
    // libzmq reserves routing ids that start with a zero byte for the ones
    // a ROUTER generates.
    routingID[0] = UInt8.random(in: 1...255)
    try setOption(ZMQ_ROUTING_ID, bytes: routingID, name: "ZMQ_ROUTING_ID")
  }

  /// Makes libzmq drop the connection of a peer that sends a message of
  /// more than `byteCount` bytes (`ZMQ_MAXMSGSIZE`), before it is stored.
  public func limitMessageSize(toBytes byteCount: Int) throws(ZMQError) {
    try setOption(ZMQ_MAXMSGSIZE, Int64(byteCount), name: "ZMQ_MAXMSGSIZE")
  }

  /// Sends ZMTP heartbeats every `intervalMilliseconds` and closes a
  /// connection silent for `timeoutMilliseconds`, so a vanished peer is
  /// noticed and a DEALER reconnects.
  public func enableHeartbeats(
    intervalMilliseconds: Int32, timeoutMilliseconds: Int32
  ) throws(ZMQError) {
    try setOption(ZMQ_HEARTBEAT_IVL, intervalMilliseconds, name: "ZMQ_HEARTBEAT_IVL")
    try setOption(ZMQ_HEARTBEAT_TIMEOUT, timeoutMilliseconds, name: "ZMQ_HEARTBEAT_TIMEOUT")
  }

  /// Binds to `endpoint`, for example `tcp://127.0.0.1:5555`, or
  /// `tcp://127.0.0.1:0` for a port the system picks (see `lastEndpoint`).
  public func bind(_ endpoint: String) throws(ZMQError) {
    try check(zmq_bind(handle, endpoint), "zmq_bind(\(endpoint))")
  }

  /// Connects to `endpoint`. libzmq connects in the background and
  /// reconnects after a loss, so this succeeds before the peer is up.
  public func connect(_ endpoint: String) throws(ZMQError) {
    try check(zmq_connect(handle, endpoint), "zmq_connect(\(endpoint))")
  }

  /// Returns the endpoint of the last bind, with the port the system chose.
  public func lastEndpoint() throws(ZMQError) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    var length = buffer.count
    try check(
      zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &length),
      "zmq_getsockopt(ZMQ_LAST_ENDPOINT)")
    return stringFromBuffer(buffer)
  }

  /// Sends `frames` as one message without blocking.
  /// - Throws: `ZMQError`; on a ROUTER with `ZMQ_ROUTER_MANDATORY`,
  ///   `EHOSTUNREACH` when the routing id names no connected peer, and
  ///   `EAGAIN` when the peer's queue is full.
  public func send(_ frames: [[UInt8]]) throws(ZMQError) {
    precondition(!frames.isEmpty, "a message needs at least one frame")
    for (index, frame) in frames.enumerated() {
      let more = index < frames.count - 1 ? ZMQ_SNDMORE : 0
      let sent = frame.withUnsafeBytes {
        zmq_send(handle, $0.baseAddress, $0.count, more | ZMQ_DONTWAIT)
      }
      try check(sent, "zmq_send")
    }
  }

  /// Waits up to `timeoutMilliseconds` for a message and returns it, or
  /// nil when none arrived in time (calls `zmq_poll`, `zmq_msg_recv`).
  public func receive(timeoutMilliseconds: Int) throws(ZMQError) -> ZMQMessage? {
    var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
    let ready = zmq_poll(&item, 1, timeoutMilliseconds)
    if ready < 0 {
      // A signal interrupts the wait; the caller loops and polls again.
      if zmq_errno() == EINTR { return nil }
      throw ZMQError.last("zmq_poll")
    }
    guard ready > 0 else { return nil }

    var frames: [[UInt8]] = []
    var userID: String?
    while true {
      var message = zmq_msg_t()
      try check(zmq_msg_init(&message), "zmq_msg_init")
      defer { zmq_msg_close(&message) }
      try check(zmq_msg_recv(&message, handle, ZMQ_DONTWAIT), "zmq_msg_recv")
      let size = zmq_msg_size(&message)
      if let data = zmq_msg_data(&message), size > 0 {
        frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
      } else {
        frames.append([])
      }
      if userID == nil, let text = zmq_msg_gets(&message, "User-Id") {
        userID = String(cString: text)
      }
      guard zmq_msg_more(&message) == 1 else { break }
    }
    return ZMQMessage(frames: frames, userID: userID)
  }
}
