import Foundation
import TitrateZMQ

/// Runs the sites of a federation in other processes, usually on other
/// machines, over ZeroMQ with CURVE: the aggregator's side.
///
/// The aggregator binds a ROUTER socket; each site connects a DEALER
/// socket to it, so only the aggregator accepts connections. The ZAP
/// handler admits only allow-listed site keys and names each message's
/// sender by its key, and a frame whose header names another site is
/// rejected. Validation, attacks, differential privacy, the strategy and
/// the server step stay in `runRound`, as with the other transports, except
/// under secure aggregation: there each site checks its own update, runs
/// its half of the protocol, and sends only its report and masked input
/// (see `NetworkTransport+SecureAggregation.swift`).
///
/// Round rule: a site's result counts only in the round it was requested
/// for, and only once (the first valid result of that site in that round).
/// Results of other rounds, duplicates and results from a previous
/// aggregator process are discarded and logged. A sampled site that stays
/// silent for `siteSilenceSeconds` counts as dropped out, and one that has
/// not replied by `roundDeadlineSeconds` as timed out, so the round
/// completes with the rest, or is skipped under `minimumParticipants`. A
/// site that restarts and sends a new hello during a round gets the
/// round's request again. A site that was not joined when a round waited
/// out its silence allowance is not waited for again, so later rounds count
/// it as absent at once until it joins.
///
/// Each site name runs in one process. While a site's connection is open
/// and has sent a message within `siteSilenceSeconds`, a second process
/// holding the same key is rejected (see
/// `NetworkTransport+Connections.swift`).
///
/// NOTE: the aggregator builds every site's environment because
/// `FederatedTrainer` does, although it never steps them.
public final class NetworkTransport: FederationTransport {
  /// The bound ROUTER socket with CURVE server options.
  public let socket: ZMQSocket
  /// The limits of the run.
  public let settings: NetworkSettings
  /// Bytes exchanged with each site in the last round that `trainSites` ran.
  public internal(set) var lastRoundTraffic: [String: SiteTraffic] = [:]
  /// Sites that built the run and wait for requests.
  public private(set) var readySites: Set<String> = []

  private let welcome: NetworkWelcome
  private let welcomePayload: [UInt8]
  let runIdentifier: [UInt8]
  let onEvent: (NetworkEvent) -> Void
  var routes: [String: [UInt8]] = [:]
  /// Sites that were ready at some point in this process.
  private var joinedSites: Set<String> = []
  var lastHeard: [String: Date] = [:]
  /// When each site's current connection last sent a message. Unlike
  /// `lastHeard`, it never moves forward at the start of a round.
  var lastReceived: [String: Date] = [:]
  /// Sites not joined when a round's wait for them ended, by that round.
  /// Later rounds do not wait for them until they join.
  private var absentSince: [String: Int] = [:]
  private var round: RoundInProgress?
  /// The secure aggregation stage whose replies are awaited.
  var secureStage: SecureStageInProgress?

  /// The state of the round whose replies are awaited.
  private struct RoundInProgress {
    var request: SiteTrainingRequest
    var indexBySite: [String: Int]
    var results: [String: SiteTrainingResult] = [:]
    var requested: Set<String> = []
    /// Sampled sites counted as absent at the start, which get no request
    /// in this round even if they join during it.
    var notAwaited: Set<String> = []
  }

  /// - Parameters:
  ///   - socket: a ROUTER socket, already a CURVE server and bound.
  ///   - welcome: the run description sent to each site that joins.
  ///   - onEvent: called on the caller's thread for every event.
  public init(
    socket: ZMQSocket, welcome: NetworkWelcome, settings: NetworkSettings,
    onEvent: @escaping (NetworkEvent) -> Void
  ) throws {
    self.socket = socket
    self.welcome = welcome
    self.settings = settings
    self.onEvent = onEvent
    welcomePayload = try welcome.encoded()
    runIdentifier = NetworkEnvelope.runIdentifier(
      configurationJSON: try NetworkWelcome.configurationJSON(welcome.configuration),
      environmentSHA256: welcome.environmentSHA256)
    try socket.requireRoutablePeers()
    // Sites present a routing id of their own, so a site that reconnects
    // keeps its route.
    try socket.handOverRoutingIDs()
    try socket.limitMessageSize(toBytes: settings.maximumFrameBytes * 2)
  }

  var siteNames: [String] { welcome.configuration.sites.map(\.name) }

  /// Serves hellos until every site of the configuration is ready or
  /// `joinTimeoutSeconds` pass, and returns the sites that are ready.
  public func waitForSites() throws -> Set<String> {
    let deadline = Date().addingTimeInterval(settings.joinTimeoutSeconds)
    while readySites.count < siteNames.count && Date() < deadline {
      try serveOnce(timeoutMilliseconds: 200)
    }
    return readySites
  }

  public func trainSites(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult] {
    let names = request.siteIndices.map { siteNames[$0] }
    round = RoundInProgress(
      request: request,
      indexBySite: Dictionary(uniqueKeysWithValues: zip(names, request.siteIndices)))
    lastRoundTraffic = Dictionary(uniqueKeysWithValues: names.map { ($0, SiteTraffic()) })
    var missing: [String: (SiteRoundStatus, String)] = [:]
    for name in names {
      guard let droppedRound = absentSince[name] else { continue }
      missing[name] = (
        .droppedOut,
        "absent: the site has not joined since it dropped out in round \(droppedRound), so the "
          + "round did not wait for it"
      )
      round!.notAwaited.insert(name)
    }
    let started = Date()
    for name in names where missing[name] == nil {
      // A site silent before the round gets the full silence allowance.
      lastHeard[name] = max(lastHeard[name] ?? started, started)
      if readySites.contains(name) { sendRequest(to: name) }
    }

    while true {
      let pending = names.filter { round!.results[$0] == nil && missing[$0] == nil }
      if pending.isEmpty { break }
      let now = Date()
      if let deadline = settings.roundDeadlineSeconds, now.timeIntervalSince(started) > deadline {
        for name in pending {
          missing[name] = (
            .timedOut,
            String(format: "timed out: no reply within the round deadline of %.1f s", deadline)
          )
        }
        continue
      }
      for name in pending
      where now.timeIntervalSince(lastHeard[name]!) > settings.siteSilenceSeconds {
        let reason = String(
          format: "dropped out: no heartbeat or reply for %.1f s", settings.siteSilenceSeconds)
        missing[name] = (.droppedOut, reason)
        var detail = reason
        if !readySites.contains(name) {
          absentSince[name] = request.round
          detail +=
            "; the site has not joined, so later rounds go on without waiting for it "
            + "until it joins"
        }
        onEvent(
          NetworkEvent(kind: .siteDropped, site: name, round: request.round, detail: detail))
      }
      try serveOnce(timeoutMilliseconds: 100)
    }

    let finished = round!
    round = nil
    return names.map { name in
      if let result = finished.results[name] { return result }
      let (status, reason) = missing[name]!
      return Self.missingResult(site: name, round: request.round, status: status, reason: reason)
    }
  }

  /// Site states stay at the sites, which keep them between rounds and
  /// across an aggregator restart, so a network checkpoint holds only the
  /// aggregator's initial copies of the site learners.
  public func collectSiteStates(into trainer: FederatedTrainer) throws {}

  /// Tells every known site that the run is over.
  public func finish() throws {
    for name in routes.keys.sorted() { send(.stop, to: name, round: 0) }
  }

  /// Builds the placeholder result of a site that sent nothing in time,
  /// or whose reply could not be decoded (status `.rejected`).
  static func missingResult(
    site: String, round: Int, status: SiteRoundStatus, reason: String
  ) -> SiteTrainingResult {
    SiteTrainingResult(
      update: ModelUpdate(
        siteName: site, round: round, delta: [], sampleCount: 0, observationStatistics: nil),
      record: SiteRoundRecord(
        site: site, accepted: false, rejectionReason: reason, status: status,
        environmentSteps: 0, meanEpisodeReturn: nil, targetAttainment: nil, outcomeMeans: [:],
        episodes: 0, secondsTraining: 0))
  }

  // MARK: - Receiving

  /// Waits up to `timeoutMilliseconds` for one message and handles it.
  func serveOnce(timeoutMilliseconds: Int) throws {
    guard let message = try socket.receive(timeoutMilliseconds: timeoutMilliseconds) else {
      return
    }
    guard message.frames.count == 2, let site = message.userID else {
      reject(
        site: message.userID,
        "expected a routing id and one frame, got "
          + "\(message.frames.count) frames")
      return
    }
    let frame = message.frames[1]
    let envelope: NetworkEnvelope
    do {
      envelope = try NetworkEnvelope(decoding: frame, maximumFrameBytes: settings.maximumFrameBytes)
    } catch {
      reject(site: site, error.description)
      return
    }
    let route = message.frames[0]
    guard envelope.siteName == site else {
      let reason =
        "the header names site '\(envelope.siteName)' but the sender's key belongs to '\(site)'"
      reject(site: site, reason)
      // Sent on this connection only, so a running site with that key keeps
      // its route.
      sendReject(
        on: route, siteName: envelope.siteName,
        reason: "\(reason); start the site with --site \(site), or give it the key of "
          + "'\(envelope.siteName)'")
      return
    }
    guard siteNames.contains(site) else {
      routes[site] = route
      send(
        .reject, to: site, round: 0,
        payload: encodeRejection(
          "site '\(site)' is not in this run's configuration (sites: "
            + siteNames.joined(separator: ", ") + ")", kind: .other))
      onEvent(NetworkEvent(kind: .siteRejected, site: site, round: nil, detail: "not in the run"))
      return
    }
    if rejectsSecondConnection(site: site, route: route, envelope: envelope) { return }
    routes[site] = route
    lastHeard[site] = Date()
    lastReceived[site] = Date()
    if round?.indexBySite[site] != nil || secureStage?.addressed.contains(site) == true {
      lastRoundTraffic[site, default: SiteTraffic()].bytesReceived += frame.count
    }
    handle(envelope, from: site)
  }

  private func handle(_ envelope: NetworkEnvelope, from site: String) {
    // A site that leaves before it joined sends the zero run id.
    let runIndependent: Set<NetworkMessageType> = [.hello, .leave]
    if !runIndependent.contains(envelope.type) && envelope.runIdentifier != runIdentifier {
      // A site that has not heard from this aggregator process (after a
      // restart) or that belongs to another run: describe the run again.
      if envelope.type == .heartbeat || envelope.type == .ready {
        welcomeSite(site, restarted: true)
      } else {
        discard(site, envelope, "it belongs to another run or to an earlier aggregator process")
      }
      return
    }
    switch envelope.type {
    case .hello:
      receiveHello(envelope, from: site)
    case .ready:
      let rejoined = joinedSites.contains(site)
      readySites.insert(site)
      joinedSites.insert(site)
      absentSince[site] = nil
      onEvent(
        NetworkEvent(
          kind: rejoined ? .siteRejoined : .siteJoined, site: site, round: round?.request.round,
          detail: "ready"))
      if let round, round.indexBySite[site] != nil, round.results[site] == nil,
        !round.notAwaited.contains(site)
      {
        if round.requested.contains(site) {
          onEvent(
            NetworkEvent(
              kind: .requestResent, site: site, round: round.request.round,
              detail: "the site rejoined during the round"))
        }
        sendRequest(to: site)
      }
    case .heartbeat:
      if readySites.contains(site) {
        // The reply shows a site that waits through a long round (for an
        // absent site, or slow training elsewhere) that the aggregator is alive.
        send(.heartbeat, to: site, round: round?.request.round ?? 0)
      } else {
        welcomeSite(site, restarted: true)
      }
    case .result:
      receiveResult(envelope, from: site)
    case .leave:
      readySites.remove(site)
      onEvent(
        NetworkEvent(
          kind: .siteLeft, site: site, round: round?.request.round,
          detail: decodeReason(envelope.payload)))
    case .secureAdvertisedKeys, .secureEncryptedShares, .secureMaskedInput,
      .secureUnmaskResponse:
      receiveSecureReply(envelope, from: site)
    case .welcome, .reject, .train, .stop, .secureSetup, .secureNeighbourKeys,
      .secureForwardedShares, .secureUnmaskRequest:
      reject(site: site, "a site may not send a \(envelope.type) message")
    }
  }

  private func receiveHello(_ envelope: NetworkEnvelope, from site: String) {
    let hello: NetworkHello
    do {
      hello = try NetworkHello(decoding: envelope.payload)
    } catch {
      reject(site: site, "unreadable hello: \(error)")
      return
    }
    guard hello.environmentSHA256 == welcome.environmentSHA256 else {
      let reason =
        "its environment definition has SHA-256 \(hello.environmentSHA256.prefix(12))..., the "
        + "run's has \(welcome.environmentSHA256.prefix(12))...; give the site the same "
        + "definition file as the aggregator"
      send(
        .reject, to: site, round: 0, payload: encodeRejection(reason, kind: .environmentMismatch))
      onEvent(NetworkEvent(kind: .siteRejected, site: site, round: nil, detail: reason))
      return
    }
    if let name = hello.updateCompression {
      let scheme = try? UpdateCompression(parsing: name).scheme
      guard let scheme, settings.acceptedCompression.contains(scheme) else {
        let accepted = UpdateCompression.Scheme.allCases.filter {
          settings.acceptedCompression.contains($0)
        }
        let reason =
          "it sends '\(name)' updates and this aggregator accepts only "
          + accepted.map(\.rawValue).joined(separator: ", ")
          + "; restart the site with one of those as --update-compression"
        send(.reject, to: site, round: 0, payload: encodeRejection(reason, kind: .other))
        onEvent(NetworkEvent(kind: .siteRejected, site: site, round: nil, detail: reason))
        return
      }
    }
    // A hello from a ready site means the site process restarted.
    readySites.remove(site)
    welcomeSite(site, restarted: false)
  }

  private func welcomeSite(_ site: String, restarted: Bool) {
    if restarted {
      onEvent(
        NetworkEvent(
          kind: .aggregatorRestarted, site: site, round: round?.request.round,
          detail: "the site had not yet joined this aggregator process; sent the run again"))
    }
    send(.welcome, to: site, round: welcome.completedRounds, payload: welcomePayload)
  }

  private func receiveResult(_ envelope: NetworkEnvelope, from site: String) {
    guard var round, round.indexBySite[site] != nil, envelope.round == round.request.round
    else {
      discard(site, envelope, "no request of that round is open for the site")
      return
    }
    guard round.results[site] == nil else {
      discard(site, envelope, "the site's result for this round already arrived")
      return
    }
    var reader = TransportReader(envelope.payload, context: "round \(envelope.round) result")
    let result: SiteTrainingResult
    do {
      let (decoded, compression) = try reader.readEncodedResult(
        parameterCount: round.request.globalParameters.count)
      guard reader.isAtEnd else {
        throw FederationTransportError.malformedMessage("trailing bytes after the result")
      }
      guard settings.acceptedCompression.contains(compression.scheme) else {
        throw UpdateCompressionError.malformed(
          scheme: compression.scheme.rawValue,
          detail: "this aggregator does not accept the scheme (--accept-compression)")
      }
      result = decoded
    } catch {
      // The frame passed CURVE and the digest check, so it is the site's
      // reply. It counts as a rejected update, and the round goes on
      // without waiting for another reply from the site.
      let reason = "round \(envelope.round) result: \(error)"
      reject(site: site, reason)
      round.results[site] = Self.missingResult(
        site: site, round: envelope.round, status: .rejected, reason: reason)
      self.round = round
      return
    }
    guard result.update.siteName == site, result.update.round == envelope.round,
      result.record.site == site
    else {
      reject(
        site: site,
        "the result names site '\(result.update.siteName)' round \(result.update.round), "
          + "expected '\(site)' round \(envelope.round)")
      return
    }
    round.results[site] = result
    self.round = round
  }

  // MARK: - Sending

  private func sendRequest(to site: String) {
    guard var round, let index = round.indexBySite[site] else { return }
    var request = round.request
    request.siteIndices = [index]
    var writer = TransportWriter()
    writer.append(request)
    let size = send(.train, to: site, round: request.round, payload: writer.bytes)
    lastRoundTraffic[site, default: SiteTraffic()].bytesSent += size
    round.requested.insert(site)
    self.round = round
  }

  /// Sends one message and returns its size in bytes, 0 when the site is
  /// not connected (it gets the request again when it rejoins).
  @discardableResult
  func send(
    _ type: NetworkMessageType, to site: String, round: Int, payload: [UInt8] = []
  ) -> Int {
    guard let route = routes[site] else { return 0 }
    let frame = NetworkEnvelope(
      type: type, runIdentifier: runIdentifier, round: round, siteName: site, payload: payload
    ).encoded()
    do {
      try socket.send([route, frame])
      return frame.count
    } catch {
      onEvent(
        NetworkEvent(
          kind: .siteDropped, site: site, round: round == 0 ? nil : round,
          detail: "could not send \(type): \(error)"))
      return 0
    }
  }

  private func reject(site: String?, _ reason: String) {
    onEvent(
      NetworkEvent(kind: .frameRejected, site: site, round: round?.request.round, detail: reason))
  }

  func discard(_ site: String, _ envelope: NetworkEnvelope, _ reason: String) {
    onEvent(
      NetworkEvent(
        kind: .resultDiscarded, site: site, round: envelope.round,
        detail: "\(envelope.type) for round \(envelope.round) discarded: \(reason)"))
  }
}
