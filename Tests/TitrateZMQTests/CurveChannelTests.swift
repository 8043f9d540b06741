import Foundation
import Testing
import TitrateZMQ

/// CURVE sockets over 127.0.0.1: a pinned server key, an allow-listed
/// client, and a client whose key is not on the list.
struct CurveChannelTests {
  /// A ROUTER server on a port the system picks, with a ZAP allow-list.
  final class Server {
    let context: ZMQContext
    let socket: ZMQSocket
    let authenticator: ZAPAuthenticator
    let endpoint: String
    let keys: CurveKeyPair

    init(allowed: [String: String]) throws {
      context = try ZMQContext()
      keys = try CurveKeyPair.generate()
      authenticator = try ZAPAuthenticator(context: context, allowedKeys: allowed)
      socket = try ZMQSocket(context: context, type: .router)
      try socket.makeCurveServer(secretKey: keys.secretKey, domain: "test")
      try socket.bind("tcp://127.0.0.1:0")
      endpoint = try socket.lastEndpoint()
    }

    deinit { authenticator.stop() }
  }

  static func client(
    _ context: ZMQContext, server: Server, keys: CurveKeyPair
  ) throws -> ZMQSocket {
    let socket = try ZMQSocket(context: context, type: .dealer)
    try socket.makeCurveClient(serverPublicKey: server.keys.publicKey, keyPair: keys)
    try socket.connect(server.endpoint)
    return socket
  }

  @Test func keyPairRoundTripsThroughZ85() throws {
    let pair = try CurveKeyPair.generate()
    #expect(pair.publicKey.utf8.count == 40)
    #expect(pair.secretKey.utf8.count == 40)
    #expect(try CurveKeyPair(secretKey: pair.secretKey) == pair)
    let bytes = try CurveKeyPair.decode(pair.publicKey, role: "public key")
    #expect(CurveKeyPair.encode(bytes) == pair.publicKey)
  }

  @Test func decodeRejectsWrongLength() {
    #expect(throws: ZMQError.self) { try CurveKeyPair.decode("short", role: "public key") }
  }

  @Test func allowedClientIsIdentified() throws {
    let clientKeys = try CurveKeyPair.generate()
    let server = try Server(allowed: [clientKeys.publicKey: "icu"])
    let clientContext = try ZMQContext()
    let client = try Self.client(clientContext, server: server, keys: clientKeys)
    try client.send([[1, 2, 3]])
    let received = try #require(try server.socket.receive(timeoutMilliseconds: 5_000))
    #expect(received.frames.count == 2)
    #expect(received.frames[1] == [1, 2, 3])
    #expect(received.userID == "icu")

    try server.socket.send([received.frames[0], [4, 5]])
    let reply = try #require(try client.receive(timeoutMilliseconds: 5_000))
    #expect(reply.frames == [[4, 5]])
  }

  @Test func unknownClientKeyIsRefused() throws {
    let allowedKeys = try CurveKeyPair.generate()
    let strangerKeys = try CurveKeyPair.generate()
    let server = try Server(allowed: [allowedKeys.publicKey: "icu"])
    let clientContext = try ZMQContext()
    let stranger = try Self.client(clientContext, server: server, keys: strangerKeys)
    try stranger.send([[9]])
    #expect(try server.socket.receive(timeoutMilliseconds: 1_000) == nil)
  }

  @Test func clientPinningWrongServerKeyGetsNothing() throws {
    let clientKeys = try CurveKeyPair.generate()
    let server = try Server(allowed: [clientKeys.publicKey: "icu"])
    let impostor = try CurveKeyPair.generate()
    let clientContext = try ZMQContext()
    let socket = try ZMQSocket(context: clientContext, type: .dealer)
    try socket.makeCurveClient(serverPublicKey: impostor.publicKey, keyPair: clientKeys)
    try socket.connect(server.endpoint)
    try socket.send([[7]])
    #expect(try server.socket.receive(timeoutMilliseconds: 1_000) == nil)
  }
}
