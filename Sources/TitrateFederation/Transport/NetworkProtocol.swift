import Foundation
import TitrateEnvironments

/// Timing and size limits of a network federation. Both ends read them
/// from their own command line.
public struct NetworkSettings: Sendable, Equatable {
  /// Largest frame accepted, in bytes, 1 KiB-4 GiB. Larger frames are
  /// rejected with a logged reason; libzmq drops a peer's connection
  /// outright above twice this size (`ZMQ_MAXMSGSIZE`).
  public var maximumFrameBytes = 64 << 20
  /// Seconds between a site's heartbeats, while training and while idle.
  public var heartbeatIntervalSeconds = 2.0
  /// Seconds a site sampled for a round may stay silent (no heartbeat, no
  /// reply) before the round counts it as dropped out.
  public var siteSilenceSeconds = 30.0
  /// Wall-clock seconds after a round's requests go out at which sites
  /// that have not replied count as timed out. With nil the aggregator
  /// waits as long as they send heartbeats.
  public var roundDeadlineSeconds: Double? = nil
  /// Seconds the aggregator waits for every site to join before the first
  /// round; the run then starts with the sites present.
  public var joinTimeoutSeconds = 300.0
  /// Seconds a site waits without any message from the aggregator before
  /// it gives up.
  public var aggregatorSilenceSeconds = 600.0
  /// Wall-clock seconds the aggregator waits for the sites' replies at
  /// each secure aggregation stage. A site that has not replied by then
  /// is a dropout at that stage.
  public var secureStageDeadlineSeconds = 60.0
  /// Learner states a site keeps, one per round it trained, so that it can
  /// repeat a round exactly for an aggregator restarted from an older
  /// checkpoint.
  public var keptSiteStates = 32
  /// Update encodings the aggregator accepts. A site that announces
  /// another one is rejected when it joins, and a result in another one
  /// is rejected for its round.
  public var acceptedCompression = Set(UpdateCompression.Scheme.allCases)

  public init() {}
}

/// Something a network transport observed, for the command's log and the
/// aggregator's audit log. It never contains keys or model values.
public struct NetworkEvent: Sendable, Equatable {
  /// What happened.
  public enum Kind: String, Sendable {
    case siteJoined = "site_joined"
    case siteRejoined = "site_rejoined"
    case siteLeft = "site_left"
    case siteRejected = "site_rejected"
    case siteDropped = "site_dropped"
    case frameRejected = "frame_rejected"
    case resultDiscarded = "result_discarded"
    case requestResent = "request_resent"
    case aggregatorRestarted = "aggregator_restarted"
    case roundRepeated = "round_repeated"
    case inexactReplay = "inexact_replay"
    case secureStageClosed = "secure_stage_closed"
  }

  /// What happened.
  public var kind: Kind
  /// The site concerned, when known (from its key, not from the frame).
  public var site: String?
  /// The round concerned, when any.
  public var round: Int?
  /// The reason or detail, in a plain sentence.
  public var detail: String

  public init(kind: Kind, site: String?, round: Int?, detail: String) {
    self.kind = kind
    self.site = site
    self.round = round
    self.detail = detail
  }
}

/// Bytes of titrate frames one site exchanged with the aggregator in one
/// round, counted at the aggregator. CURVE adds about 33 bytes per frame
/// and TCP its headers; neither is counted.
public struct SiteTraffic: Sendable, Equatable, Codable {
  /// Bytes the aggregator sent to the site (the training request and,
  /// under secure aggregation, the protocol messages).
  public var bytesSent = 0
  /// Bytes received from the site (heartbeats, the result and, under
  /// secure aggregation, the protocol replies).
  public var bytesReceived = 0

  public init(bytesSent: Int = 0, bytesReceived: Int = 0) {
    self.bytesSent = bytesSent
    self.bytesReceived = bytesReceived
  }
}

/// The aggregator's description of the run, sent to each site that joins.
public struct NetworkWelcome: Sendable, Equatable {
  /// The run configuration; the site finds itself by name in its sites.
  public var configuration: FederationConfiguration
  /// Name of the environment definition.
  public var environmentName: String
  /// SHA-256 of the environment definition the aggregator loaded.
  public var environmentSHA256: String
  /// The action space every site must build.
  public var actionSpace: ActionSpace
  /// Features per observation every site must build.
  public var observationSize: Int
  /// Rounds the aggregator has completed (after a resume, more than 0).
  public var completedRounds: Int

  public init(
    configuration: FederationConfiguration, environmentName: String, environmentSHA256: String,
    actionSpace: ActionSpace, observationSize: Int, completedRounds: Int
  ) {
    self.configuration = configuration
    self.environmentName = environmentName
    self.environmentSHA256 = environmentSHA256
    self.actionSpace = actionSpace
    self.observationSize = observationSize
    self.completedRounds = completedRounds
  }

  /// Encodes the configuration as the canonical JSON that the run id hashes.
  public static func configurationJSON(_ configuration: FederationConfiguration) throws -> [UInt8] {
    var writer = TransportWriter()
    try writer.appendJSON(configuration)
    return writer.bytes
  }

  func encoded() throws -> [UInt8] {
    var writer = TransportWriter()
    try writer.appendJSON(configuration)
    writer.append(environmentName)
    writer.append(environmentSHA256)
    try writer.appendJSON(actionSpace)
    writer.append(observationSize)
    writer.append(completedRounds)
    return writer.bytes
  }

  init(decoding payload: [UInt8]) throws {
    var reader = TransportReader(payload, context: "welcome from the aggregator")
    configuration = try reader.readJSON(FederationConfiguration.self)
    environmentName = try reader.readString()
    environmentSHA256 = try reader.readString()
    actionSpace = try reader.readJSON(ActionSpace.self)
    observationSize = try reader.readInt()
    completedRounds = try reader.readInt()
  }
}

/// A site's introduction: what it built, which program it runs and how
/// it encodes its updates.
struct NetworkHello: Equatable {
  var environmentSHA256: String
  var programVersion: String
  /// `UpdateCompression.name` of the site's encoding; nil from a site
  /// whose hello ends before this field.
  var updateCompression: String?

  func encoded() -> [UInt8] {
    var writer = TransportWriter()
    writer.append(environmentSHA256)
    writer.append(programVersion)
    if let updateCompression { writer.append(updateCompression) }
    return writer.bytes
  }

  init(environmentSHA256: String, programVersion: String, updateCompression: String?) {
    self.environmentSHA256 = environmentSHA256
    self.programVersion = programVersion
    self.updateCompression = updateCompression
  }

  init(decoding payload: [UInt8]) throws {
    var reader = TransportReader(payload, context: "hello from a site")
    environmentSHA256 = try reader.readString()
    programVersion = try reader.readString()
    updateCompression = reader.isAtEnd ? nil : try reader.readString()
  }
}

/// Encodes a plain-text reason (for `leave`).
func encodeReason(_ text: String) -> [UInt8] {
  var writer = TransportWriter()
  writer.append(text)
  return writer.bytes
}

/// Decodes a plain-text reason, or describes why it could not be read.
func decodeReason(_ payload: [UInt8]) -> String {
  var reader = TransportReader(payload, context: "reason")
  return (try? reader.readString()) ?? "(unreadable reason of \(payload.count) bytes)"
}

/// The class of an aggregator's rejection of a site. A `reject` payload
/// carries it after the reason text, so that the site can exit with the
/// matching status. A payload without it, from an earlier release, reads
/// as `.other`.
public enum RejectionKind: Int, Sendable {
  /// Any reason without a kind of its own.
  case other = 0
  /// The site's environment definition has another SHA-256 than the run's.
  case environmentMismatch = 1
}

/// Encodes a `reject` payload: the reason text, then its kind.
func encodeRejection(_ reason: String, kind: RejectionKind) -> [UInt8] {
  var writer = TransportWriter()
  writer.append(reason)
  writer.append(kind.rawValue)
  return writer.bytes
}

/// Decodes a `reject` payload; an absent or unknown kind reads as `.other`.
func decodeRejection(_ payload: [UInt8]) -> (reason: String, kind: RejectionKind) {
  var reader = TransportReader(payload, context: "rejection")
  guard let reason = try? reader.readString() else {
    return ("(unreadable reason of \(payload.count) bytes)", .other)
  }
  let kind = (try? reader.readInt()).flatMap(RejectionKind.init(rawValue:)) ?? .other
  return (reason, kind)
}

/// Errors that end a network run at the aggregator or at a site.
public enum NetworkTransportError: Error, Equatable, CustomStringConvertible {
  /// The aggregator rejected this site; the reason comes from the aggregator.
  case rejectedByAggregator(String, kind: RejectionKind = .other)
  /// Nothing arrived from the aggregator for too long.
  case aggregatorSilent(seconds: Double, endpoint: String)
  /// The run the aggregator describes cannot be built at this site.
  case incompatibleRun(String)
  /// A request from the aggregator does not fit the run.
  case invalidRequest(String)

  public var description: String {
    switch self {
    case .rejectedByAggregator(let reason, _):
      return "the aggregator rejected this site: \(reason)"
    case .aggregatorSilent(let seconds, let endpoint):
      return String(
        format:
          "no message from the aggregator at %@ for %.0f s; check that it runs, that "
          + "--server-public is its public key, and that this site's public key is on its "
          + "--allow list", endpoint, seconds)
    case .incompatibleRun(let detail):
      return "cannot join the run: \(detail)"
    case .invalidRequest(let detail):
      return "invalid request from the aggregator: \(detail); run the same titrate release "
        + "on both ends"
    }
  }
}
