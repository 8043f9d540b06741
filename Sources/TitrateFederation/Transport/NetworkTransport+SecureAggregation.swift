import Foundation
import TitrateSecureAggregation

extension SecureAggregationStage {
  /// The message type the aggregator sends at this stage.
  var serverMessageType: NetworkMessageType {
    switch self {
    case .advertiseKeys: return .secureSetup
    case .shareKeys: return .secureNeighbourKeys
    case .maskedInput: return .secureForwardedShares
    case .unmasking: return .secureUnmaskRequest
    }
  }

  /// The message type a site replies with at this stage.
  var siteReplyType: NetworkMessageType {
    switch self {
    case .advertiseKeys: return .secureAdvertisedKeys
    case .shareKeys: return .secureEncryptedShares
    case .maskedInput: return .secureMaskedInput
    case .unmasking: return .secureUnmaskResponse
    }
  }

  /// The stage whose server message has type `type`, nil for other types.
  init?(serverMessageType type: NetworkMessageType) {
    guard let stage = Self.allCases.first(where: { $0.serverMessageType == type }) else {
      return nil
    }
    self = stage
  }
}

/// One secure aggregation stage the aggregator waits on.
struct SecureStageInProgress {
  var stage: SecureAggregationStage
  var round: Int
  /// Sites that were sent the stage's message.
  var addressed: Set<String>
  /// Replies by site; an empty one at `maskedInput` means "no input".
  var replies: [String: [UInt8]] = [:]
}

/// Secure aggregation over the network: the aggregator runs the server
/// half and relays the protocol messages; each `titrate site` runs its own
/// half (`NetworkSite`, `SecureAggregationSiteHost`). The aggregator
/// receives public keys, shares sealed under keys it does not have, masked
/// inputs and, for the unmasking, shares of the secrets it is entitled to.
extension NetworkTransport: SecureAggregationTransport {
  public func exchangeSecureAggregationStage(
    _ stage: SecureAggregationStage, round: Int, messages: [Int: [UInt8]],
    expectedReplies: Set<Int>
  ) throws -> [Int: [UInt8]] {
    let names = siteNames
    let addressed = Set(messages.keys.map { names[$0] })
    secureStage = SecureStageInProgress(stage: stage, round: round, addressed: addressed)
    let started = Date()
    for index in messages.keys.sorted() {
      let size = send(
        stage.serverMessageType, to: names[index], round: round, payload: messages[index]!)
      lastRoundTraffic[names[index], default: SiteTraffic()].bytesSent += size
    }

    // Wait for the expected sites until each has replied, gone silent, or
    // the stage deadline passed.
    let expected = expectedReplies.map { names[$0] }
    var silent: [String: String] = [:]
    while true {
      let pending = expected.filter { secureStage!.replies[$0] == nil && silent[$0] == nil }
      if pending.isEmpty { break }
      let now = Date()
      if now.timeIntervalSince(started) > settings.secureStageDeadlineSeconds {
        for name in pending {
          silent[name] = String(
            format: "no reply within the stage deadline of %.1f s",
            settings.secureStageDeadlineSeconds)
        }
        break
      }
      for name in pending
      where now.timeIntervalSince(lastHeard[name] ?? .distantPast) > settings.siteSilenceSeconds {
        silent[name] = String(
          format: "no heartbeat or reply for %.1f s", settings.siteSilenceSeconds)
      }
      try serveOnce(timeoutMilliseconds: 100)
    }

    let replies = secureStage!.replies
    secureStage = nil
    for name in silent.keys.sorted() {
      onEvent(
        NetworkEvent(
          kind: .siteDropped, site: name, round: round,
          detail: "secure aggregation stage \(stage.rawValue): \(silent[name]!); the site is a "
            + "dropout at this stage"))
    }
    let withoutInput = replies.filter { $0.value.isEmpty }.keys.sorted()
    onEvent(
      NetworkEvent(
        kind: .secureStageClosed, site: nil, round: round,
        detail: "stage \(stage.rawValue): \(replies.count - withoutInput.count) of "
          + "\(addressed.count) sites replied"
          + (withoutInput.isEmpty ? "" : "; without input: " + withoutInput.joined(separator: ", "))
          + (silent.isEmpty ? "" : "; silent: " + silent.keys.sorted().joined(separator: ", "))))
    var bySite: [Int: [UInt8]] = [:]
    for (name, bytes) in replies {
      if let index = names.firstIndex(of: name) { bySite[index] = bytes }
    }
    return bySite
  }

  /// Keeps a site's reply to the open stage; others are discarded and logged.
  func receiveSecureReply(_ envelope: NetworkEnvelope, from site: String) {
    guard var open = secureStage, envelope.round == open.round, open.addressed.contains(site),
      envelope.type == open.stage.siteReplyType
    else {
      discard(site, envelope, "no secure aggregation stage expecting it is open for the site")
      return
    }
    guard open.replies[site] == nil else {
      discard(site, envelope, "the site's reply at this stage already arrived")
      return
    }
    open.replies[site] = envelope.payload
    secureStage = open
  }
}
