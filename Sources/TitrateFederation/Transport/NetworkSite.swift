import Foundation
import TitrateRL
import TitrateSecureAggregation
import TitrateZMQ

/// Builds the federated trainer a site trains with, from the run the
/// aggregator describes and the site's own environment definition.
public typealias NetworkSiteBuilder = (NetworkWelcome) throws -> FederatedTrainer

/// One hospital's side of a network federation: it dials the aggregator,
/// builds the run it receives, trains its own site for each request and
/// sends back the update, with heartbeats while it trains. Under secure
/// aggregation it sends only its report, then runs its half of SecAgg+
/// (`SecureAggregationSiteHost`) for each stage message, so only the
/// masked input of its update leaves the site.
///
/// The site keeps its learner state (Adam moments, observation statistics,
/// random generators) between rounds; it never leaves the site. It also
/// keeps the state after each of its last `keptSiteStates` rounds, so
/// when an aggregator restarted from a checkpoint requests a round again,
/// the site restores the state from before that round and sends the same
/// update bit for bit.
///
/// NOTE: a site process that restarts starts from a fresh learner and a
/// zero compression residual (nothing is stored on disk), so its later
/// updates differ from an uninterrupted run's.
public final class NetworkSite {
  /// The site's name in the run configuration; its key has the same name
  /// on the aggregator's allow-list.
  public let siteName: String
  /// The DEALER socket, a CURVE client connected to the aggregator.
  public let socket: ZMQSocket
  /// The limits of the run.
  public let settings: NetworkSettings
  /// The endpoint the socket connects to, for messages.
  public let endpoint: String

  private let hello: NetworkHello
  private let build: NetworkSiteBuilder
  private let onEvent: (NetworkEvent) -> Void
  private var runIdentifier = NetworkEnvelope.unknownRun
  private var trainer: FederatedTrainer?
  private var siteIndex = 0
  /// Learner states after the rounds this site trained, oldest first; the
  /// entry for round 0 is the initial state.
  private var keptStates: [(round: Int, state: PPOLearnerState, residual: CompressionResidual)] =
    []
  /// The error-feedback memory under `compression`, kept with each kept
  /// learner state so that a repeated round sends the same bytes.
  private var residual = CompressionResidual()
  /// How this site encodes its deltas.
  public let compression: UpdateCompression
  private var lastHeard = Date()
  /// The site's half of secure aggregation, when the run uses it.
  private var secureHost: SecureAggregationSiteHost?
  /// Called before the site replies to a secure aggregation stage message,
  /// with the round and the stage; returning false withholds the reply.
  /// Fault-injection tests use it to stall or end a site at a stage.
  public var secureStageHook: ((Int, SecureAggregationStage) -> Bool)?

  /// - Parameters:
  ///   - environmentSHA256: SHA-256 of the site's environment definition;
  ///     the aggregator rejects a site whose definition differs.
  ///   - build: makes the trainer from the aggregator's run description.
  ///   - onEvent: called on the caller's thread for every event.
  public init(
    siteName: String, socket: ZMQSocket, endpoint: String, environmentSHA256: String,
    programVersion: String, settings: NetworkSettings, compression: UpdateCompression = .none,
    build: @escaping NetworkSiteBuilder, onEvent: @escaping (NetworkEvent) -> Void
  ) throws {
    self.siteName = siteName
    self.socket = socket
    self.endpoint = endpoint
    self.settings = settings
    self.compression = compression
    self.build = build
    self.onEvent = onEvent
    hello = NetworkHello(
      environmentSHA256: environmentSHA256, programVersion: programVersion,
      updateCompression: compression.name)
    try socket.limitMessageSize(toBytes: settings.maximumFrameBytes * 2)
  }

  /// Rounds this site has trained in this process.
  public private(set) var trainedRounds = 0

  /// Serves the aggregator until it sends `stop`.
  /// - Throws: `NetworkTransportError` when the aggregator rejects the
  ///   site, stays silent for `aggregatorSilenceSeconds`, or describes a
  ///   run this site cannot build. `ZMQError` when the socket fails.
  public func run() throws {
    lastHeard = Date()
    var lastSent = Date.distantPast
    while true {
      if Date().timeIntervalSince(lastHeard) > settings.aggregatorSilenceSeconds {
        throw NetworkTransportError.aggregatorSilent(
          seconds: settings.aggregatorSilenceSeconds, endpoint: endpoint)
      }
      if Date().timeIntervalSince(lastSent) >= settings.heartbeatIntervalSeconds {
        // Until it has the run, the site repeats its hello. Afterwards it
        // sends heartbeats, and a restarted aggregator replies to them with
        // the run description.
        if trainer == nil {
          try send(.hello, round: 0, payload: hello.encoded())
        } else {
          try send(.heartbeat, round: 0)
        }
        lastSent = Date()
      }
      guard let message = try socket.receive(timeoutMilliseconds: 200) else { continue }
      guard let envelope = decode(message) else { continue }
      lastHeard = Date()
      switch envelope.type {
      case .welcome:
        try join(envelope)
      case .reject:
        let rejection = decodeRejection(envelope.payload)
        throw NetworkTransportError.rejectedByAggregator(rejection.reason, kind: rejection.kind)
      case .train:
        guard envelope.runIdentifier == runIdentifier, trainer != nil else {
          reject("a training request for round \(envelope.round) of an unknown run")
          continue
        }
        try train(envelope)
        lastSent = Date()
      case .stop:
        return
      case .heartbeat:
        // The aggregator's reply to a heartbeat: it is alive, so keep waiting.
        continue
      case .secureSetup, .secureNeighbourKeys, .secureForwardedShares, .secureUnmaskRequest:
        guard envelope.runIdentifier == runIdentifier, secureHost != nil else {
          reject("a secure aggregation message for round \(envelope.round) of an unknown run")
          continue
        }
        try answerSecureStage(envelope)
      case .hello, .ready, .result, .leave, .secureAdvertisedKeys,
        .secureEncryptedShares, .secureMaskedInput, .secureUnmaskResponse:
        reject("the aggregator may not send a \(envelope.type) message")
      }
    }
  }

  /// Tells the aggregator that this site leaves, with the reason, then
  /// closes the socket and its context, waiting at most one second for
  /// the message to go out. The site cannot be used afterwards.
  public func leave(reason: String) {
    try? send(.leave, round: 0, payload: encodeReason(reason))
    socket.close(lingerMilliseconds: 1000)
    socket.context.terminate()
  }

  private func decode(_ message: ZMQMessage) -> NetworkEnvelope? {
    guard message.frames.count == 1 else {
      reject("expected one frame, got \(message.frames.count)")
      return nil
    }
    do {
      let envelope = try NetworkEnvelope(
        decoding: message.frames[0], maximumFrameBytes: settings.maximumFrameBytes)
      guard envelope.siteName == siteName else {
        reject("the header addresses site '\(envelope.siteName)'")
        return nil
      }
      return envelope
    } catch {
      reject(error.description)
      return nil
    }
  }

  /// Builds the run on the first welcome, and keeps it when a restarted
  /// aggregator describes the same run again.
  private func join(_ envelope: NetworkEnvelope) throws {
    let welcome: NetworkWelcome
    do {
      welcome = try NetworkWelcome(decoding: envelope.payload)
    } catch {
      throw NetworkTransportError.incompatibleRun("unreadable welcome: \(error)")
    }
    if envelope.runIdentifier != runIdentifier || trainer == nil {
      guard let index = welcome.configuration.sites.firstIndex(where: { $0.name == siteName })
      else {
        throw NetworkTransportError.incompatibleRun(
          "site '\(siteName)' is not in the run's sites ("
            + welcome.configuration.sites.map(\.name).joined(separator: ", ") + ")")
      }
      let built = try build(welcome)
      guard built.observationSize == welcome.observationSize,
        built.actionSpace == welcome.actionSpace
      else {
        throw NetworkTransportError.incompatibleRun(
          "this site builds \(built.observationSize) observation features and action space "
            + "\(built.actionSpace), the aggregator \(welcome.observationSize) and "
            + "\(welcome.actionSpace)")
      }
      if built.configuration.secureAggregation != nil && compression != .none {
        throw NetworkTransportError.incompatibleRun(
          "the run uses secure aggregation, whose masked inputs are already quantised; "
            + "restart this site without --update-compression")
      }
      trainer = built
      secureHost =
        built.configuration.secureAggregation != nil
        ? SecureAggregationSiteHost(trainer: built) : nil
      siteIndex = index
      runIdentifier = envelope.runIdentifier
      residual = CompressionResidual()
      keptStates = [(0, built.sites[index].learner.state(), residual)]
    }
    try send(.ready, round: 0)
  }

  /// Trains one round on a background thread, sending heartbeats from
  /// this thread (a socket serves one thread), then sends the result.
  private func train(_ envelope: NetworkEnvelope) throws {
    let trainer = trainer!
    var reader = TransportReader(envelope.payload, context: "round \(envelope.round) request")
    let request: SiteTrainingRequest
    do {
      request = try reader.readRequest()
    } catch {
      throw NetworkTransportError.invalidRequest("\(error)")
    }
    try check(request, trainer: trainer, round: envelope.round)
    try restoreState(before: request.round, trainer: trainer)

    let finished = DispatchSemaphore(value: 0)
    let box = ResultBox(count: 1)
    // This thread does not touch the trainer until `finished` signals.
    let handOver = TrainerHandOver(trainer: trainer)
    let thread = Thread {
      box.store(handOver.trainer.trainSitesLocally(request)[0], at: 0)
      finished.signal()
    }
    thread.start()
    while finished.wait(timeout: .now() + settings.heartbeatIntervalSeconds) == .timedOut {
      try send(.heartbeat, round: request.round)
    }
    var result = box.results()[0]
    if let secureHost {
      // The update stays here until the site masks it.
      result =
        secureHost.prepareReports(
          [result], sites: [siteIndex], round: request.round,
          parameterCount: request.globalParameters.count)[0]
    }

    keptStates.removeAll { $0.round >= request.round }
    let encoded = residual.compress(result.update.delta, with: compression)
    keptStates.append((request.round, trainer.sites[siteIndex].learner.state(), residual))
    if keptStates.count > settings.keptSiteStates + 1 { keptStates.removeFirst() }
    trainedRounds += 1

    var writer = TransportWriter()
    try writer.append(result, encodedDelta: encoded)
    try send(.result, round: request.round, payload: writer.bytes)
  }

  /// Restores the learner state from before `round` when the site has
  /// already trained that round or a later one.
  private func restoreState(before round: Int, trainer: FederatedTrainer) throws {
    guard let latest = keptStates.last, latest.round >= round else { return }
    guard let earlier = keptStates.last(where: { $0.round < round }) else {
      onEvent(
        NetworkEvent(
          kind: .inexactReplay, site: siteName, round: round,
          detail: "round \(round) is older than the \(keptStates.count) kept states; training "
            + "from the current state, so this update differs from the first one"))
      return
    }
    try trainer.sites[siteIndex].learner.restore(earlier.state)
    residual = earlier.residual
    onEvent(
      NetworkEvent(
        kind: .roundRepeated, site: siteName, round: round,
        detail: "the aggregator asked again for round \(round); restored the learner state "
          + "after round \(earlier.round), so the update repeats the first one exactly"))
  }

  private func check(_ request: SiteTrainingRequest, trainer: FederatedTrainer, round: Int) throws {
    var problems: [String] = []
    if request.round != round {
      problems.append("round \(request.round) in a round \(round) frame")
    }
    if request.siteIndices != [siteIndex] {
      problems.append("site indices \(request.siteIndices), expected [\(siteIndex)]")
    }
    if request.globalParameters.count != trainer.globalParameters.count {
      problems.append(
        "\(request.globalParameters.count) parameters, expected \(trainer.globalParameters.count)")
    }
    if request.costMultipliers.count != trainer.configuration.sites.count {
      problems.append(
        "\(request.costMultipliers.count) cost multipliers for "
          + "\(trainer.configuration.sites.count) sites")
    }
    let statistics = request.normalizer
    if statistics.mean.count != trainer.observationSize
      || statistics.variance.count != trainer.observationSize
    {
      problems.append("observation statistics of \(statistics.mean.count) features")
    }
    guard problems.isEmpty else {
      throw NetworkTransportError.invalidRequest(problems.joined(separator: "; "))
    }
  }

  /// Sends the site's reply to one secure aggregation stage message. A message that breaks
  /// the protocol's rules is logged and gets no reply, so the site drops
  /// out of the round at that stage.
  private func answerSecureStage(_ envelope: NetworkEnvelope) throws {
    guard let stage = SecureAggregationStage(serverMessageType: envelope.type) else { return }
    if let secureStageHook, !secureStageHook(envelope.round, stage) { return }
    let reply: [UInt8]?
    do {
      reply = try secureHost!.reply(
        stage: stage, site: siteIndex, round: envelope.round, message: envelope.payload)
    } catch {
      reject("secure aggregation stage \(stage.rawValue) of round \(envelope.round): \(error)")
      return
    }
    guard let reply else { return }
    try send(stage.siteReplyType, round: envelope.round, payload: reply)
  }

  private func send(_ type: NetworkMessageType, round: Int, payload: [UInt8] = []) throws {
    let frame = NetworkEnvelope(
      type: type, runIdentifier: runIdentifier, round: round, siteName: siteName,
      payload: payload
    ).encoded()
    do {
      try socket.send([frame])
    } catch let error where error.isTimeout {
      // The queue to the aggregator is full while it is unreachable; the
      // next heartbeat or hello tries again.
    }
  }

  private func reject(_ reason: String) {
    onEvent(NetworkEvent(kind: .frameRejected, site: siteName, round: nil, detail: reason))
  }
}

/// Passes the trainer to the training thread while the serving thread
/// waits for it.
private final class TrainerHandOver: @unchecked Sendable {
  let trainer: FederatedTrainer
  init(trainer: FederatedTrainer) { self.trainer = trainer }
}
