import Foundation
import TitrateZMQ

/// Each site name runs in one process. Every `titrate site` process
/// presents a random routing id of its own, so its connection keeps one
/// route across reconnections, and two processes holding the same key
/// arrive on two routes.
///
/// While a site's current route is open and has sent a message within
/// `siteSilenceSeconds`, messages from another route under that name are
/// rejected. A process that ends closes its connection, even on a crash.
/// Once the first connection has closed or gone silent, the other process
/// takes the site over, as a restarted site should.
extension NetworkTransport {
  /// Rejects a message that arrives on a second route of `site` while the
  /// site's current route is alive, and returns whether it did.
  func rejectsSecondConnection(
    site: String, route: [UInt8], envelope: NetworkEnvelope
  ) -> Bool {
    guard let current = routes[site], current != route,
      let secondsSinceMessage = secondsSinceLiveMessage(site: site, route: current)
    else { return false }
    if envelope.type == .leave {
      // A rejected process sends `leave` as it exits.
      discard(site, envelope, "it comes from a second process of the site, which was rejected")
      return true
    }
    let detail = String(
      format: "site '%@' is already connected from another process, which sent a message "
        + "%.1f s ago", site, secondsSinceMessage)
    onEvent(
      NetworkEvent(
        kind: .siteRejected, site: site, round: nil,
        detail: "\(detail); rejected a second process with the same key"))
    sendReject(
      on: route, siteName: site,
      reason: detail
        + String(
          format: "; a site runs in one process only, so stop one of the two. A restarted site "
            + "is admitted once the earlier process's connection has closed or been silent "
            + "for %.0f s", settings.siteSilenceSeconds))
    return true
  }

  /// Returns the seconds since the site's last message when its connection
  /// on `route` is alive (open, and heard within `siteSilenceSeconds`),
  /// nil otherwise. Sends the site a heartbeat to find out whether libzmq
  /// still has the connection.
  private func secondsSinceLiveMessage(site: String, route: [UInt8]) -> Double? {
    guard let last = lastReceived[site] else { return nil }
    let seconds = Date().timeIntervalSince(last)
    guard seconds <= settings.siteSilenceSeconds else { return nil }
    let probe = NetworkEnvelope(
      type: .heartbeat, runIdentifier: runIdentifier, round: 0, siteName: site
    ).encoded()
    do {
      try socket.send([route, probe])
    } catch  where error.code == EHOSTUNREACH {
      // No connected peer has the route, so the earlier process has gone.
      return nil
    } catch {
      // Any other error, such as a full queue (EAGAIN), leaves the connection
      // in place.
    }
    return seconds
  }

  /// Sends a `reject` with `reason` on `route` only, so that the site's
  /// other connection, if any, keeps its route.
  func sendReject(on route: [UInt8], siteName: String, reason: String) {
    let frame = NetworkEnvelope(
      type: .reject, runIdentifier: runIdentifier, round: 0, siteName: siteName,
      payload: encodeRejection(reason, kind: .other)
    ).encoded()
    try? socket.send([route, frame])
  }
}
