import Foundation
import TitrateEnvironments
import TitrateFederation
import TitrateSecureAggregation
import TitrateZMQ

/// `titrate site`: one hospital's site. It dials the aggregator, builds
/// the run the aggregator describes from its own environment definition
/// (and its own cohort file), and trains its site for every round request
/// until the aggregator stops the run.
enum SiteCommand {
  static let usage =
    "titrate site --site NAME --key FILE --server-public FILE [--connect ENDPOINT] [options]"

  static let options: [OptionSpecification] = [
    .init(
      name: "connect", valueName: "ENDPOINT", help: "the aggregator's endpoint, tcp://HOST:PORT",
      defaultValue: "tcp://127.0.0.1:5555"),
    .init(
      name: "site", valueName: "NAME",
      help: "this site's name in the run configuration (the aggregator's allow-list names its key "
        + "the same)",
      defaultValue: nil),
    .init(
      name: "key", valueName: "FILE", help: "this site's secret key (NAME.key, mode 0600)",
      defaultValue: nil),
    .init(
      name: "server-public", valueName: "FILE",
      help: "the aggregator's public key; the site talks to no other server", defaultValue: nil),
    .init(
      name: "environment", valueName: "NAME|FILE",
      help: "environment name under Environments/ or a .json path; must match the aggregator's "
        + "definition byte for byte",
      defaultValue: "vancomycin"),
    .init(
      name: "environments-dir", valueName: "DIR", help: "folder of environment definitions",
      defaultValue: nil),
    .init(
      name: "cohort", valueName: "FILE",
      help: "train on this CSV cohort of covariates; it never leaves the site, and the run's "
        + "configuration must carry its SHA-256",
      defaultValue: nil),
    .init(
      name: "heartbeat-interval", valueName: "SECONDS",
      help: "seconds between heartbeats to the aggregator, 0.1-60", defaultValue: "2"),
    .init(
      name: "aggregator-timeout", valueName: "SECONDS",
      help: "give up after this long without a message from the aggregator, 1-86400",
      defaultValue: "600"),
    .init(
      name: "kept-states", valueName: "N",
      help: "learner states kept, one per trained round, to repeat rounds exactly for an "
        + "aggregator resumed from an older checkpoint, 1-10000",
      defaultValue: "32"),
    .init(
      name: "max-frame-bytes", valueName: "N",
      help: "largest frame accepted, 1024-4294967296 bytes", defaultValue: "67108864"),
    UpdateCompressionOptions.site,
    .init(
      name: "secagg-fault", valueName: "ROUND:STAGE:exit|stall",
      help: "fault injection for tests: on receiving the aggregator's message of secure "
        + "aggregation STAGE (advertiseKeys, shareKeys, maskedInput, unmasking) in ROUND, end "
        + "the process at once (exit status 3) or stay connected without replying",
      defaultValue: nil),
    .init(
      name: "quiet", valueName: nil, help: "print only errors and the summary", defaultValue: nil),
  ]

  static func run(_ arguments: [String]) throws {
    guard
      let parsed = try parseCommandLine(
        command: "site", arguments: arguments, usage: usage,
        summary:
          "Run one hospital site of a federation: dial the aggregator over ZeroMQ with CURVE, "
          + "train on local virtual patients, and send back model updates.",
        options: options,
        details:
          "The site opens no port. Only model updates, sample counts, observation statistics "
          + "and the round report leave it; its cohort file and learner state stay local.")
    else { return }
    try parsed.checkPositionals(maximum: 0, usage: usage)
    let siteName = try parsed.requiredOption("site")
    guard KeysCommand.isValidKeyName(siteName) else {
      throw CommandError.usage(
        "--site '\(siteName)' is not a site name: use 1-64 of A-Z a-z 0-9 _ -")
    }
    let secretKey = try KeysCommand.readKey(
      try parsed.requiredOption("key"), secret: true, option: "key")
    let serverPublic = try KeysCommand.readKey(
      try parsed.requiredOption("server-public"), secret: false, option: "server-public")
    let quiet = parsed.flag("quiet")
    var settings = NetworkSettings()
    settings.heartbeatIntervalSeconds = try parsed.double("heartbeat-interval", in: 0.1...60)
    settings.aggregatorSilenceSeconds = try parsed.double("aggregator-timeout", in: 1...86_400)
    settings.keptSiteStates = try parsed.integer("kept-states", in: 1...10_000)
    settings.maximumFrameBytes = try parsed.integer("max-frame-bytes", in: 1024...(1 << 32))
    let compression = try UpdateCompressionOptions.parse(parsed)

    let catalog = try EnvironmentCatalog(explicitDirectory: parsed.string("environments-dir"))
    let environmentArgument = try parsed.requiredString("environment")
    let environment = try SiteEnvironment.load(catalog, environmentArgument)
    let cohort = try parsed.string("cohort").map { path -> PatientCohort in
      do {
        return try PatientCohort.load(from: URL(fileURLWithPath: path))
      } catch {
        throw CommandError.invalidInput("\(error)")
      }
    }

    let endpoint = try parsed.requiredString("connect")
    try checkEndpoint(endpoint, option: "connect")
    let context: ZMQContext
    let socket: ZMQSocket
    do {
      context = try ZMQContext()
      socket = try ZMQSocket(context: context, type: .dealer)
      // The aggregator distinguishes this process from another one holding
      // the same key by its routing id.
      try socket.setRandomRoutingID()
      try socket.makeCurveClient(
        serverPublicKey: serverPublic, keyPair: try CurveKeyPair(secretKey: secretKey))
      let milliseconds = Int32(settings.heartbeatIntervalSeconds * 1000)
      try socket.enableHeartbeats(
        intervalMilliseconds: milliseconds, timeoutMilliseconds: milliseconds * 5)
      try socket.connect(endpoint)
    } catch {
      throw CommandError.failure("--connect \(endpoint): \(error)")
    }
    let site = try NetworkSite(
      siteName: siteName, socket: socket, endpoint: endpoint,
      environmentSHA256: environment.stored.sha256, programVersion: titrateVersion,
      settings: settings, compression: compression,
      build: { welcome in
        if !quiet {
          print(
            "joined run of \(welcome.configuration.rounds) rounds on \(welcome.environmentName) "
              + "(\(welcome.configuration.sites.count) sites, \(welcome.completedRounds) done)")
          fflush(nil)
        }
        return try environment.makeTrainer(welcome, siteName: siteName, cohort: cohort)
      },
      onEvent: { event in printError(AggregatorSession.format(event)) })
    if let fault = try parsed.string("secagg-fault").map(SecureStageFault.init(parsing:)) {
      site.secureStageHook = { round, stage in
        guard round == fault.round, stage == fault.stage else { return true }
        printError(
          "site \(siteName): injected fault at round \(round) stage \(stage.rawValue): "
            + (fault.exits ? "exiting" : "withholding the reply"))
        if fault.exits { exit(3) }
        return false
      }
    }
    if !quiet {
      print("site \(siteName) dialing \(endpoint)")
      fflush(nil)
    }
    do {
      try site.run()
    } catch let error as NetworkTransportError {
      site.leave(reason: "\(error)")
      if case .rejectedByAggregator(_, .environmentMismatch) = error {
        throw CommandError.invalidInput("--environment \(environmentArgument): \(error)")
      }
      throw CommandError.failure("\(error)")
    } catch let error as CommandError {
      site.leave(reason: error.message)
      throw error
    }
    print("site \(siteName): run finished after \(site.trainedRounds) rounds trained here")
    _ = context
  }
}

/// The environment definition a site loaded, and how it builds its trainer.
struct SiteEnvironment {
  var stored: StoredEnvironment
  var pkpd: PKPDEnvironment?
  var definition: EnvironmentDefinition?

  static func load(_ catalog: EnvironmentCatalog, _ argument: String) throws -> SiteEnvironment {
    if let (environment, stored) = try PKPDEnvironment.load(catalog, argument) {
      return SiteEnvironment(stored: stored, pkpd: environment, definition: nil)
    }
    let (definition, stored) = try catalog.load(argument)
    return SiteEnvironment(stored: stored, pkpd: nil, definition: definition)
  }

  /// Builds the run's trainer. Only this site's environment gets the
  /// configured patient count (and the cohort); the other sites, which
  /// this process never trains, get one patient each.
  func makeTrainer(
    _ welcome: NetworkWelcome, siteName: String, cohort: PatientCohort?
  ) throws -> FederatedTrainer {
    guard welcome.environmentSHA256 == stored.sha256 else {
      throw CommandError.invalidInput(
        "the run uses environment \(welcome.environmentName) with SHA-256 "
          + "\(welcome.environmentSHA256.prefix(12))..., this site's definition has "
          + "\(stored.sha256.prefix(12))...; use the aggregator's definition file")
    }
    let own = welcome.configuration.sites.first { $0.name == siteName }
    if own?.cohortSHA256 != cohort?.sha256 {
      throw CommandError.invalidInput(
        "--cohort: the run expects "
          + (own?.cohortSHA256.map { "a cohort with SHA-256 \($0.prefix(12))..." } ?? "no cohort")
          + " for site \(siteName), this site has "
          + (cohort.map { "one with SHA-256 \($0.sha256.prefix(12))..." } ?? "none"))
    }
    let base: EnvironmentFactory
    if let pkpd {
      base = pkpd.environmentFactory
    } else {
      base = TrainCommand.environmentFactory(
        definition!, mode: doseActionMode(for: welcome.actionSpace),
        cohorts: cohort.map { [siteName: $0] } ?? [:],
        edgePatientFraction: welcome.configuration.edgePatientFraction)
    }
    let factory: EnvironmentFactory = { site, index in
      var reduced = site
      if site.name != siteName { reduced.patientsPerBatch = 1 }
      return try base(reduced, index)
    }
    do {
      return try FederatedTrainer(configuration: welcome.configuration, makeEnvironment: factory)
    } catch {
      throw CommandError.invalidInput("cannot build the aggregator's run: \(error)")
    }
  }
}

/// A fault injected at a secure aggregation stage (`--secagg-fault`).
struct SecureStageFault {
  var round: Int
  var stage: SecureAggregationStage
  /// true: the process exits; false: it stays connected and never replies.
  var exits: Bool

  init(parsing text: String) throws {
    let parts = text.split(separator: ":").map(String.init)
    guard parts.count == 3, let round = Int(parts[0]), round >= 1,
      let stage = SecureAggregationStage(rawValue: parts[1]), ["exit", "stall"].contains(parts[2])
    else {
      throw CommandError.usage(
        "--secagg-fault '\(text)' is invalid; expected ROUND:STAGE:exit|stall with ROUND >= 1 "
          + "and STAGE one of "
          + SecureAggregationStage.allCases.map(\.rawValue).joined(separator: ", "))
    }
    self.round = round
    self.stage = stage
    exits = parts[2] == "exit"
  }
}
