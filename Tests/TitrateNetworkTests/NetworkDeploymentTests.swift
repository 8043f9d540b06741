import Foundation
import Testing
import TitrateFederation
import TitrateZMQ

/// `titrate aggregator` with `titrate site` processes on 127.0.0.1: the
/// model matches the in-process run, unknown keys and altered frames are
/// rejected, and the run survives a killed site and a killed aggregator.
@Suite(.serialized)
struct NetworkDeploymentTests {
  /// More patients per site, so that a round lasts long enough (tenths of
  /// a second in debug builds) for a process to be killed during the run.
  static let slowerTraining = [
    "--patients-per-site", "256", "--minibatch-size", "256", "--update-epochs", "1",
    "--hidden-sizes", "8,8", "--threads", "1", "--seed", "5",
  ]

  /// Starts an aggregator and `sites`, waits for the run to end, and
  /// returns the aggregator's status and output.
  static func runNetwork(
    _ training: [String], sites: [String], output: URL, folder: URL
  ) throws -> NetworkLaunch.Running {
    let aggregator = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output) + training,
      folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"), "\(aggregator.errors)")
    let endpoint = try #require(aggregator.endpoint)
    let running = try sites.map {
      try NetworkLaunch.Running(
        NetworkLaunch.siteArguments($0, endpoint: endpoint, folder: folder), folder: folder,
        label: "site-\($0)")
    }
    #expect(aggregator.waitForExit() == 0, "\(aggregator.errors)")
    for site in running {
      #expect(site.waitForExit(seconds: 30) == 0, "\(site.errors)")
    }
    return aggregator
  }

  /// Plain, secure, and weighted by each site's multiplier and advantage
  /// spread (the factor travels with the update).
  @Test(arguments: [
    [], ["--secure-aggregation", "--normalization", "per-site"],
    [
      "--cost-limit", "0.05", "--per-site-limit", "--weight-by-multiplier",
      "--advantage-scaled-weights",
    ],
  ])
  func networkRunMatchesInProcess(_ extra: [String]) throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let sites = ["elderly_renal", "haematology", "icu_arc"]
    try NetworkLaunch.makeKeys(["server"] + sites, allowed: sites, folder: folder)
    let training =
      ["--sites", "3", "--rounds", "2", "--checkpoint-every", "1"] + NetworkLaunch.tinyTraining
      + extra
    let reference = folder.appendingPathComponent("in-process.h5")
    let single = try NetworkLaunch.titrate(
      ["train"] + training + ["--output", reference.path], folder: folder, label: "train")
    #expect(single.status == 0, "\(single.errors)")

    let networked = folder.appendingPathComponent("network.h5")
    let metrics = folder.appendingPathComponent("network.csv")
    let aggregator = try Self.runNetwork(
      training + ["--metrics", metrics.path], sites: sites, output: networked, folder: folder)
    #expect(try NetworkLaunch.differingEntries(reference, networked) == [])
    #expect(aggregator.output.contains("3 of 3 sites joined"))
    #expect(aggregator.output.contains("round 2 bytes sent/received: elderly_renal "))

    // The metrics file carries each site's bytes per round.
    let lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 3)
    let header = lines[0].split(separator: ",").map(String.init)
    for site in sites {
      for direction in ["bytes_sent", "bytes_received"] {
        let column = try #require(header.firstIndex(of: "network/\(site)/\(direction)"))
        let row = lines[2].split(separator: ",", omittingEmptySubsequences: false)
        #expect((Double(row[column]) ?? 0) > 1000, "\(site) \(direction): \(row[column])")
      }
    }

    let audit = try String(
      contentsOf: folder.appendingPathComponent("network.audit.jsonl"), encoding: .utf8)
    let events = audit.split(separator: "\n").map {
      try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
    #expect(events.filter { $0["event"] as? String == "site_joined" }.count == 3)
    #expect(events.filter { $0["event"] as? String == "update_accepted" }.count == 6)
    #expect(events.filter { $0["event"] as? String == "round_completed" }.count == 2)
    #expect(
      !audit.contains(
        try String(contentsOf: folder.appendingPathComponent("keys/icu_arc.pub"), encoding: .utf8)
          .trimmingCharacters(in: .whitespacesAndNewlines)))
  }

  /// Starts an aggregator for one site and one round and returns it with
  /// the endpoint it listens on.
  static func startOneSiteAggregator(folder: URL) throws -> (NetworkLaunch.Running, String) {
    let output = folder.appendingPathComponent("network.h5")
    let aggregator = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output)
        + ["--sites", "1", "--rounds", "1"] + NetworkLaunch.tinyTraining,
      folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"))
    return (aggregator, try #require(aggregator.endpoint))
  }

  /// Lets the correctly configured elderly_renal site finish the run.
  static func finishWithSite(
    _ aggregator: NetworkLaunch.Running, endpoint: String, folder: URL
  ) throws {
    let site = try NetworkLaunch.Running(
      NetworkLaunch.siteArguments("elderly_renal", endpoint: endpoint, folder: folder),
      folder: folder, label: "site")
    #expect(aggregator.waitForExit() == 0, "\(aggregator.errors)")
    #expect(site.waitForExit(seconds: 30) == 0, "\(site.errors)")
  }

  @Test func unknownKeyIsRefused() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(
      ["server", "elderly_renal", "stranger"], allowed: ["elderly_renal"], folder: folder)
    let (aggregator, endpoint) = try Self.startOneSiteAggregator(folder: folder)

    // The stranger claims a configured site name but signs in with another key.
    let stranger = try NetworkLaunch.titrate(
      NetworkLaunch.siteArguments(
        "elderly_renal", keyName: "stranger", endpoint: endpoint, folder: folder,
        aggregatorTimeout: 3),
      folder: folder, label: "stranger")
    #expect(stranger.status == 1)
    #expect(stranger.errors.contains("no message from the aggregator"))
    #expect(aggregator.errors.contains("is not on the --allow list"))
    #expect(aggregator.process.isRunning)

    try Self.finishWithSite(aggregator, endpoint: endpoint, folder: folder)
  }

  /// A site whose name does not match its key gets a rejection with the
  /// fix, instead of waiting for the aggregator until it times out.
  @Test func misnamedSiteIsRejectedWithFix() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(
      ["server", "elderly_renal"], allowed: ["elderly_renal"], folder: folder)
    let (aggregator, endpoint) = try Self.startOneSiteAggregator(folder: folder)

    let misnamed = try NetworkLaunch.titrate(
      NetworkLaunch.siteArguments(
        "haematology", keyName: "elderly_renal", endpoint: endpoint, folder: folder,
        aggregatorTimeout: 120),
      folder: folder, label: "misnamed")
    #expect(misnamed.status != 0)
    #expect(
      misnamed.errors.contains(
        "the header names site 'haematology' but the sender's key belongs to 'elderly_renal'; "
          + "start the site with --site elderly_renal"), "\(misnamed.errors)")

    try Self.finishWithSite(aggregator, endpoint: endpoint, folder: folder)
  }

  /// The aggregator replies to heartbeats, so a joined site waits through a
  /// round that outlasts its --aggregator-timeout. Here the round waits 6 s
  /// (--site-silence) for a site that never joined, while the joined site
  /// gives up on an aggregator silent for 2 s.
  @Test func joinedSiteWaitsThroughLongRound() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let sites = ["elderly_renal", "haematology"]
    try NetworkLaunch.makeKeys(["server"] + sites, allowed: sites, folder: folder)
    let output = folder.appendingPathComponent("network.h5")
    let arguments = NetworkLaunch.aggregatorArguments(
      folder: folder, output: output, joinTimeoutSeconds: 1)
    let aggregator = try NetworkLaunch.Running(
      arguments + ["--sites", "2", "--rounds", "1", "--site-silence", "6"]
        + NetworkLaunch.tinyTraining,
      folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"))
    let endpoint = try #require(aggregator.endpoint)

    let site = try NetworkLaunch.Running(
      NetworkLaunch.siteArguments(
        "elderly_renal", endpoint: endpoint, folder: folder, aggregatorTimeout: 2),
      folder: folder, label: "site")
    #expect(aggregator.waitForExit() == 0, "\(aggregator.errors)")
    #expect(site.waitForExit(seconds: 30) == 0, "\(site.errors)")
    #expect(!site.errors.contains("no message from the aggregator"))
  }

  @Test func aggregatorOutputErrorNamesCommand() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = try NetworkLaunch.titrate(
      ["aggregator", "--bind", "tcp://127.0.0.1:0"], folder: folder, label: "aggregator")
    #expect(run.status == 2)
    #expect(run.errors.contains("'titrate aggregator' needs '--output FILE' for the checkpoint"))
  }

  /// Malformed endpoints and a port in use are usage errors with the fix.
  @Test func endpointsAreCheckedFirst() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(
      ["server", "elderly_renal"], allowed: ["elderly_renal"], folder: folder)
    let output = folder.appendingPathComponent("network.h5")
    let training = ["--sites", "1", "--rounds", "1"] + NetworkLaunch.tinyTraining
    for (bind, expected) in [
      ("127.0.0.1:5555", "is not a TCP endpoint; give it as tcp://ADDRESS:PORT"),
      ("tcp://127.0.0.1:99999", "has port '99999', not a number in 0-65535"),
    ] {
      let run = try NetworkLaunch.titrate(
        NetworkLaunch.aggregatorArguments(folder: folder, output: output, bind: bind)
          + training, folder: folder, label: "aggregator")
      #expect(run.status == 2, "\(bind): \(run.errors)")
      #expect(run.errors.contains(expected), "\(run.errors)")
    }
    let site = try NetworkLaunch.titrate(
      NetworkLaunch.siteArguments("elderly_renal", endpoint: "localhost:5555", folder: folder),
      folder: folder, label: "site")
    #expect(site.status == 2)
    #expect(site.errors.contains("--connect 'localhost:5555' is not a TCP endpoint"))

    let first = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output) + training,
      folder: folder, label: "first")
    #expect(first.waitForOutput("listening on"))
    let endpoint = try #require(first.endpoint)
    let second = try NetworkLaunch.titrate(
      NetworkLaunch.aggregatorArguments(
        folder: folder, output: folder.appendingPathComponent("second.h5"), bind: endpoint)
        + training, folder: folder, label: "second")
    #expect(second.status == 2)
    #expect(second.errors.contains("the address is already in use; choose another port"))
    kill(first.process.processIdentifier, SIGKILL)
    first.process.waitUntilExit()
  }

  /// A bad key or allow list fails with its documented exit code before
  /// the aggregator prints anything on standard output.
  @Test func keysAreCheckedBeforeBanner() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(
      ["server", "elderly_renal"], allowed: ["elderly_renal"], folder: folder)
    let output = folder.appendingPathComponent("network.h5")
    let serverKey = folder.appendingPathComponent("keys/server.key").path
    let readableKey = folder.appendingPathComponent("readable.key").path
    try FileManager.default.copyItem(atPath: serverKey, toPath: readableKey)
    try FileManager.default.setAttributes(
      [.posixPermissions: 0o644], ofItemAtPath: readableKey)
    let garbledKey = folder.appendingPathComponent("garbled.key").path
    try "not a key".write(toFile: garbledKey, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: garbledKey)

    let arguments = NetworkLaunch.aggregatorArguments(folder: folder, output: output)
    let keyOption = try #require(arguments.firstIndex(of: "--server-key"))
    let oneSite = ["--sites", "1", "--rounds", "1"] + NetworkLaunch.tinyTraining
    let cases: [(label: String, key: String, training: [String], status: Int32, error: String)] =
      [
        ("readable", readableKey, oneSite, 2, "has mode 644, so other users may read"),
        ("garbled", garbledKey, oneSite, 3, "--server-key \(garbledKey): "),
        (
          "unlisted", serverKey, ["--sites", "2", "--rounds", "1"] + NetworkLaunch.tinyTraining,
          2, "--allow has no public key for site(s) haematology; add NAME.pub"
        ),
      ]
    for item in cases {
      var withKey = arguments
      withKey[keyOption + 1] = item.key
      let run = try NetworkLaunch.titrate(
        withKey + item.training, folder: folder, label: item.label)
      #expect(run.status == item.status, "\(item.label): \(run.errors)")
      #expect(run.errors.contains(item.error), "\(item.label): \(run.errors)")
      #expect(run.output.isEmpty, "\(item.label) printed: \(run.output)")
    }
  }

  @Test func differentDefinitionIsRejected() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(
      ["server", "elderly_renal"], allowed: ["elderly_renal"], folder: folder)
    // The same definition with one more trailing newline has another SHA-256.
    let original = try String(
      contentsOf: NetworkLaunch.repositoryRoot.appendingPathComponent(
        "Environments/vancomycin.json"),
      encoding: .utf8)
    let edited = folder.appendingPathComponent("vancomycin.json")
    try (original + "\n").write(to: edited, atomically: true, encoding: .utf8)

    let (aggregator, endpoint) = try Self.startOneSiteAggregator(folder: folder)
    let mismatched = try NetworkLaunch.titrate(
      NetworkLaunch.siteArguments("elderly_renal", endpoint: endpoint, folder: folder)
        + ["--environment", edited.path],
      folder: folder, label: "mismatched")
    // Exit code 3: an input file (the definition) does not fit the run.
    #expect(mismatched.status == 3, "\(mismatched.errors)")
    #expect(
      mismatched.errors.contains(
        "--environment \(edited.path): the aggregator rejected this site: its environment "
          + "definition has SHA-256 "), "\(mismatched.errors)")
    #expect(mismatched.errors.contains("give the site the same definition file"))

    try Self.finishWithSite(aggregator, endpoint: endpoint, folder: folder)
    let audit = try String(
      contentsOf: folder.appendingPathComponent("network.audit.jsonl"), encoding: .utf8)
    #expect(audit.contains("\"site_rejected\""))
    #expect(audit.contains("\"site_left\""))
  }

  @Test func tamperedFrameIsRejected() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(
      ["server", "elderly_renal"], allowed: ["elderly_renal"], folder: folder)
    let (aggregator, endpoint) = try Self.startOneSiteAggregator(folder: folder)

    // This test plays the site with its real key and sends bad frames.
    let socket = try NetworkLaunch.siteSocket(
      folder: folder, endpoint: endpoint, site: "elderly_renal")
    var altered = NetworkEnvelope(
      type: .hello, runIdentifier: NetworkEnvelope.unknownRun, round: 0,
      siteName: "elderly_renal", payload: [1, 2, 3, 4]
    ).encoded()
    altered[altered.count - 2] ^= 0x40
    try socket.send([altered])
    let impersonating = NetworkEnvelope(
      type: .hello, runIdentifier: NetworkEnvelope.unknownRun, round: 0,
      siteName: "haematology")
    try socket.send([impersonating.encoded()])
    try socket.send([Array("TTRN".utf8) + [9, 0, 1, 0]])

    let audit = folder.appendingPathComponent("network.audit.jsonl")
    var rejected: [String] = []
    let deadline = Date().addingTimeInterval(10)
    while rejected.count < 3 && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.1)
      let text = (try? String(contentsOf: audit, encoding: .utf8)) ?? ""
      rejected = text.split(separator: "\n").filter { $0.contains("\"frame_rejected\"") }
        .map(String.init)
    }
    #expect(rejected.count == 3)
    #expect(rejected.first?.contains("digest does not match") == true)
    #expect(rejected.dropFirst().first?.contains("belongs to 'elderly_renal'") == true)
    #expect(rejected.last?.contains("truncated frame") == true)
    #expect(aggregator.process.isRunning)
    aggregator.kill()
  }

  @Test func killedSiteDropsOutAndRejoins() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let sites = ["elderly_renal", "haematology", "icu_arc"]
    try NetworkLaunch.makeKeys(["server"] + sites, allowed: sites, folder: folder)
    let output = folder.appendingPathComponent("network.h5")
    let aggregator = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output)
        + ["--sites", "3", "--rounds", "6", "--site-silence", "1"] + Self.slowerTraining,
      folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"))
    let endpoint = try #require(aggregator.endpoint)
    var running = try sites.map {
      try NetworkLaunch.Running(
        NetworkLaunch.siteArguments($0, endpoint: endpoint, folder: folder), folder: folder,
        label: "site-\($0)")
    }
    #expect(aggregator.waitForOutput("round 1/6"))
    running[2].kill()
    // Wait until a round has dropped the site, then start it again.
    let deadline = Date().addingTimeInterval(30)
    while !aggregator.errors.contains("no update from site icu_arc") && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.05)
    }
    running[2] = try NetworkLaunch.Running(
      NetworkLaunch.siteArguments("icu_arc", endpoint: endpoint, folder: folder),
      folder: folder, label: "site-icu_arc-restarted")
    #expect(aggregator.waitForExit() == 0, "\(aggregator.errors)")
    for site in [running[0], running[1], running[2]] {
      #expect(site.waitForExit(seconds: 30) == 0, "\(site.errors)")
    }

    let history = try NetworkLaunch.history(output)
    #expect(history.count == 6)
    func status(_ record: [String: Any], _ site: String) -> String? {
      (record["sites"] as! [[String: Any]]).first { $0["site"] as? String == site }?["status"]
        as? String
    }
    #expect(history.contains { status($0, "icu_arc") == "droppedOut" })
    #expect(status(history.last!, "icu_arc") == "accepted")
    #expect(history.allSatisfy { status($0, "elderly_renal") == "accepted" })
    #expect(aggregator.errors.contains("site icu_arc: site rejoined"))
  }

  @Test func restartedAggregatorMatchesInProcess() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let sites = ["elderly_renal", "haematology"]
    try NetworkLaunch.makeKeys(["server"] + sites, allowed: sites, folder: folder)
    let training =
      ["--sites", "2", "--rounds", "6", "--checkpoint-every", "1"]
      + Self.slowerTraining
    let reference = folder.appendingPathComponent("in-process.h5")
    let single = try NetworkLaunch.titrate(
      ["train"] + training + ["--output", reference.path], folder: folder, label: "train")
    #expect(single.status == 0, "\(single.errors)")

    let output = folder.appendingPathComponent("network.h5")
    let first = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output) + training,
      folder: folder, label: "aggregator")
    #expect(first.waitForOutput("listening on"))
    let endpoint = try #require(first.endpoint)
    let running = try sites.map {
      try NetworkLaunch.Running(
        NetworkLaunch.siteArguments($0, endpoint: endpoint, folder: folder), folder: folder,
        label: "site-\($0)")
    }
    // Killed after round 3, the sites have usually trained rounds past
    // the last checkpoint, which the resumed aggregator requests again.
    #expect(first.waitForOutput("round 3/6"))
    first.kill()

    let second = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output, bind: endpoint)
        + ["--resume", output.path],
      folder: folder, label: "aggregator-resumed")
    #expect(second.waitForExit() == 0, "\(second.errors)")
    for site in running {
      #expect(site.waitForExit(seconds: 30) == 0, "\(site.errors)")
    }
    #expect(second.output.contains("resuming \(output.path) after round"))
    #expect(!second.output.contains("after round 6 of 6"))
    #expect(try NetworkLaunch.differingEntries(reference, output) == [])
    // Whether a site repeated a round depends on when the kill landed.
    let repeated = running.filter { $0.errors.contains("round repeated") }.count
    print("sites that repeated a round after the aggregator restart: \(repeated)")
  }
}
