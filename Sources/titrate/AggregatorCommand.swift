import Foundation
import TitrateFederation
import TitrateZMQ

/// A command that trains like `titrate train` through its own transport:
/// its name, help, extra options and hooks into the training loop.
struct TrainingHost {
  var command: String
  var usage: String
  var summary: String
  var options: [OptionSpecification]
  /// Checks the command's own options against the built run before the
  /// run prints anything, so that a bad option fails without a banner.
  var check: (ParsedOptions, FederatedTrainer) throws -> Void
  /// Installs the transport once the trainer is built (or resumed), with
  /// the parsed options, the environment and the `--quiet` flag.
  var attach: (ParsedOptions, FederatedTrainer, StoredEnvironment, Bool) throws -> Void
  /// Runs after each round's record is printed and stored.
  var roundFinished: (RoundRecord, Bool) throws -> Void
  /// Bytes sent to and received from each site in the round just run,
  /// for the metrics file; nil where the host does not count them.
  var lastRoundTraffic: () -> [String: SiteTraffic]? = { nil }
}

/// `titrate aggregator`: the aggregator of a federation whose sites run in
/// other processes (`titrate site`) and dial in over ZeroMQ with CURVE.
enum AggregatorCommand {
  static let usage =
    "titrate aggregator --server-key FILE --allow DIR|FILES --output FILE [--bind ENDPOINT] "
    + "[training options]"

  static let options: [OptionSpecification] = [
    .init(
      name: "bind", valueName: "ENDPOINT",
      help: "ZeroMQ endpoint the sites dial, tcp://ADDRESS:PORT; port 0 lets the system pick one "
        + "(printed at start)",
      defaultValue: "tcp://127.0.0.1:5555"),
    .init(
      name: "server-key", valueName: "FILE",
      help: "the aggregator's secret key (NAME.key from titrate keys generate, mode 0600)",
      defaultValue: nil),
    .init(
      name: "allow", valueName: "DIR|FILE,...",
      help: "site public keys admitted: a folder of NAME.pub files or a list of them; each key's "
        + "file name is its site name",
      defaultValue: nil),
    .init(
      name: "audit-log", valueName: "FILE",
      help: "append-only JSON-lines audit log (default: the --output path with .audit.jsonl)",
      defaultValue: nil),
    .init(
      name: "heartbeat-interval", valueName: "SECONDS",
      help: "seconds between ZeroMQ connection heartbeats, 0.1-60", defaultValue: "2"),
    .init(
      name: "site-silence", valueName: "SECONDS",
      help: "a sampled site silent this long counts as dropped out of the round, 1-86400; "
        + "later rounds do not wait for a site that had not joined by then, until it joins",
      defaultValue: "30"),
    .init(
      name: "reply-deadline", valueName: "SECONDS",
      help: "sites that have not replied this long after a round's requests count as timed "
        + "out, 1-86400 (default: wait while they send heartbeats)",
      defaultValue: nil),
    .init(
      name: "secagg-stage-deadline", valueName: "SECONDS",
      help: "under --secure-aggregation, sites that have not replied this long after a "
        + "protocol stage's messages go out are dropouts at that stage, 0.1-86400",
      defaultValue: "60"),
    .init(
      name: "join-timeout", valueName: "SECONDS",
      help: "how long to wait for every site before the first round, 1-86400",
      defaultValue: "300"),
    .init(
      name: "max-frame-bytes", valueName: "N",
      help: "largest frame accepted, 1024-4294967296 bytes", defaultValue: "67108864"),
    UpdateCompressionOptions.accept,
  ]

  static func run(_ arguments: [String]) throws {
    let session = AggregatorSession()
    try TrainCommand.run(
      arguments,
      host: TrainingHost(
        command: "aggregator", usage: usage,
        summary:
          "Run the aggregator of a federation whose sites run 'titrate site' in other processes "
          + "or hospitals. It takes every 'titrate train' option; the configuration names the "
          + "sites, and each site dials in over ZeroMQ with CURVE keys.",
        options: options,
        check: { try session.check($0, siteNames: $1.siteNames) },
        attach: { try session.attach($0, $1, $2, quiet: $3) },
        roundFinished: { try session.roundFinished($0, quiet: $1) },
        lastRoundTraffic: { session.lastRoundTraffic }))
    session.stop()
  }
}

/// The aggregator's network state during one `titrate aggregator` run.
final class AggregatorSession {
  private var context: ZMQContext?
  private var authenticator: ZAPAuthenticator?
  private var transport: NetworkTransport?

  /// The transport's byte counts of the last round, nil before it attaches.
  var lastRoundTraffic: [String: SiteTraffic]? { transport?.lastRoundTraffic }
  private var auditLog: NetworkAuditLog?

  /// The aggregator's options, read by `check`.
  private struct CheckedOptions {
    var endpoint: String
    var secretKey: String
    /// Site names by public key.
    var allowed: [String: String]
    var settings: NetworkSettings
  }
  private var checked: CheckedOptions?

  /// Reads the endpoint, the keys, the allow list and the timing options,
  /// and checks that the allow list has a key for each of `siteNames`.
  func check(_ parsed: ParsedOptions, siteNames: [String]) throws {
    if parsed.explicitOptions.contains("transport") {
      throw CommandError.usage(
        "'titrate aggregator' always uses the network; remove --transport")
    }
    let endpoint = try parsed.requiredString("bind")
    try checkEndpoint(endpoint, option: "bind")
    let secretKey = try KeysCommand.readKey(
      try parsed.requiredOption("server-key"), secret: true, option: "server-key")
    let allowed = try allowList(try parsed.requiredOption("allow"))
    let unknownSites = Set(siteNames).subtracting(allowed.values).sorted()
    if !unknownSites.isEmpty {
      throw CommandError.usage(
        "--allow has no public key for site(s) \(unknownSites.joined(separator: ", ")); add "
          + "NAME.pub for each site of the configuration")
    }
    var settings = NetworkSettings()
    settings.heartbeatIntervalSeconds = try parsed.double("heartbeat-interval", in: 0.1...60)
    settings.siteSilenceSeconds = try parsed.double("site-silence", in: 1...86_400)
    settings.roundDeadlineSeconds = try parsed.optionalDouble("reply-deadline", in: 1...86_400)
    settings.joinTimeoutSeconds = try parsed.double("join-timeout", in: 1...86_400)
    settings.secureStageDeadlineSeconds = try parsed.double(
      "secagg-stage-deadline", in: 0.1...86_400)
    settings.maximumFrameBytes = try parsed.integer("max-frame-bytes", in: 1024...(1 << 32))
    settings.acceptedCompression = try UpdateCompressionOptions.parseAccepted(parsed)
    checked = CheckedOptions(
      endpoint: endpoint, secretKey: secretKey, allowed: allowed, settings: settings)
  }

  /// Opens the audit log, binds the endpoint, waits for the sites and
  /// installs the network transport. Runs after `check`.
  func attach(
    _ parsed: ParsedOptions, _ trainer: FederatedTrainer, _ stored: StoredEnvironment,
    quiet: Bool
  ) throws {
    guard let checked else { preconditionFailure("AggregatorSession.attach runs after check") }
    let settings = checked.settings

    let outputPath = try parsed.requiredOption("output") as NSString
    let auditPath =
      parsed.string("audit-log") ?? outputPath.deletingPathExtension + ".audit.jsonl"
    let audit: NetworkAuditLog
    do {
      audit = try NetworkAuditLog(path: auditPath)
    } catch {
      throw CommandError.failure("\(error.localizedDescription)")
    }
    auditLog = audit

    let endpoint = checked.endpoint
    let bound: String
    let socket: ZMQSocket
    do {
      let context = try ZMQContext()
      self.context = context
      authenticator = try ZAPAuthenticator(context: context, allowedKeys: checked.allowed) {
        decision in
        guard decision.statusCode != 200 else { return }
        printError(
          "refused a connection from \(decision.address): public key \(decision.keyPrefix)... "
            + "is not on the --allow list")
      }
      socket = try ZMQSocket(context: context, type: .router)
      try socket.makeCurveServer(secretKey: checked.secretKey, domain: "titrate")
      let milliseconds = Int32(settings.heartbeatIntervalSeconds * 1000)
      try socket.enableHeartbeats(
        intervalMilliseconds: milliseconds, timeoutMilliseconds: milliseconds * 5)
      try socket.bind(endpoint)
      bound = try socket.lastEndpoint()
    } catch  where error.call.hasPrefix("zmq_bind") && error.code == EADDRINUSE {
      throw CommandError.usage(
        "--bind \(endpoint): the address is already in use; choose another port, or port 0 to "
          + "let the system pick a free one, or stop the process that listens there")
    } catch {
      throw CommandError.failure("--bind \(endpoint): \(error)")
    }
    print("listening on \(bound) for \(trainer.siteNames.count) sites")
    fflush(nil)

    let welcome = NetworkWelcome(
      configuration: trainer.configuration, environmentName: stored.name,
      environmentSHA256: stored.sha256, actionSpace: trainer.actionSpace,
      observationSize: trainer.observationSize, completedRounds: trainer.completedRounds)
    let transport = try NetworkTransport(
      socket: socket, welcome: welcome, settings: settings
    ) { event in
      printError(Self.format(event))
      do {
        try audit.append(event)
      } catch {
        printError("audit log: \(error.localizedDescription)")
      }
    }
    self.transport = transport
    try audit.append(
      event: "aggregator_started",
      fields: [
        "endpoint": .text(bound), "completed_rounds": .integer(trainer.completedRounds),
        "sites": .text(trainer.siteNames.joined(separator: ",")),
      ])
    let ready = try transport.waitForSites()
    guard !ready.isEmpty else {
      throw CommandError.failure(
        "no site joined within --join-timeout \(formatNumber(settings.joinTimeoutSeconds)) s; "
          + "check that the sites dial \(bound) with this aggregator's public key and that "
          + "their public keys are in --allow")
    }
    let absent = Set(trainer.siteNames).subtracting(ready).sorted()
    if !quiet {
      print(
        "\(ready.count) of \(trainer.siteNames.count) sites joined"
          + (absent.isEmpty ? "" : "; absent: \(absent.joined(separator: ", "))"))
    }
    trainer.transport = transport
  }

  func roundFinished(_ record: RoundRecord, quiet: Bool) throws {
    guard let transport, let auditLog else { return }
    let traffic = transport.lastRoundTraffic
    try auditLog.append(round: record, traffic: traffic)
    if !quiet {
      let parts = traffic.keys.sorted().map { name in
        "\(name) \(traffic[name]!.bytesSent)/\(traffic[name]!.bytesReceived)"
      }
      print("round \(record.round) bytes sent/received: " + parts.joined(separator: ", "))
    }
    // Operators and scripts follow the run through a pipe or a file.
    fflush(nil)
  }

  func stop() {
    authenticator?.stop()
    if let auditLog { try? auditLog.append(event: "aggregator_stopped", fields: [:]) }
  }

  /// Reads `--allow`: a folder of NAME.pub files or a comma-separated list
  /// of them. Returns the keys mapped to site names.
  private func allowList(_ argument: String) throws -> [String: String] {
    var isDirectory: ObjCBool = false
    var files: [String]
    if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory),
      isDirectory.boolValue
    {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
      files = names.filter { $0.hasSuffix(".pub") }.sorted().map {
        (argument as NSString).appendingPathComponent($0)
      }
    } else {
      files = argument.split(separator: ",").map(String.init)
    }
    guard !files.isEmpty else {
      throw CommandError.usage("--allow \(argument): no NAME.pub files found")
    }
    var keys: [String: String] = [:]
    for file in files {
      let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
      let key = try KeysCommand.readKey(file, secret: false, option: "allow")
      if let other = keys[key] {
        throw CommandError.usage("--allow: \(file) contains the same key as site \(other)")
      }
      keys[key] = name
    }
    return keys
  }

  static func format(_ event: NetworkEvent) -> String {
    let round = event.round.map { "round \($0): " } ?? ""
    let site = event.site.map { "site \($0): " } ?? ""
    return "\(round)\(site)\(event.kind.rawValue.replacingOccurrences(of: "_", with: " ")): "
      + event.detail
  }
}

/// Checks that `endpoint` has the form tcp://ADDRESS:PORT with a port of
/// 0-65535 (or * for any), before anything else starts.
func checkEndpoint(_ endpoint: String, option: String) throws {
  let form = "give it as tcp://ADDRESS:PORT, for example tcp://127.0.0.1:5555"
  guard endpoint.hasPrefix("tcp://") else {
    throw CommandError.usage("--\(option) '\(endpoint)' is not a TCP endpoint; \(form)")
  }
  let address = endpoint.dropFirst("tcp://".count)
  guard let colon = address.lastIndex(of: ":"), colon > address.startIndex else {
    throw CommandError.usage("--\(option) '\(endpoint)' has no address and port; \(form)")
  }
  let port = address[address.index(after: colon)...]
  guard port == "*" || UInt16(port) != nil else {
    throw CommandError.usage(
      "--\(option) '\(endpoint)' has port '\(port)', not a number in 0-65535; \(form)")
  }
}
