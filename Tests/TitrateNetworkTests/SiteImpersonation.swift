import Foundation
import TitrateZMQ

extension NetworkLaunch {
  /// Returns a DEALER socket connected to `endpoint` with the real CURVE
  /// keys of `site` from `folder/keys`, for tests that play that site and
  /// send frames by hand. The socket keeps its context alive.
  static func siteSocket(folder: URL, endpoint: String, site: String) throws -> ZMQSocket {
    func key(_ name: String) throws -> String {
      try String(contentsOf: folder.appendingPathComponent("keys/\(name)"), encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let context = try ZMQContext()
    let socket = try ZMQSocket(context: context, type: .dealer)
    try socket.makeCurveClient(
      serverPublicKey: try key("server.pub"),
      keyPair: try CurveKeyPair(secretKey: try key("\(site).key")))
    try socket.connect(endpoint)
    return socket
  }
}
