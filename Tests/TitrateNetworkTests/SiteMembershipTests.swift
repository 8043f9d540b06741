import Foundation
import Testing

/// Which processes count as a run's sites over the network: one process
/// per site name, a restarted site rejoins at once, and a site that has not
/// joined is waited for only once.
@Suite(.serialized)
struct SiteMembershipTests {
  static let sites = ["elderly_renal", "haematology"]

  /// Starts an aggregator for the two sites with `joinTimeout` and `extra`
  /// options, and returns it with the endpoint it listens on.
  static func startAggregator(
    folder: URL, joinTimeout: Int, extra: [String]
  ) throws -> (NetworkLaunch.Running, String) {
    try NetworkLaunch.makeKeys(["server"] + sites, allowed: sites, folder: folder)
    let arguments = NetworkLaunch.aggregatorArguments(
      folder: folder, output: folder.appendingPathComponent("network.h5"),
      joinTimeoutSeconds: joinTimeout)
    let aggregator = try NetworkLaunch.Running(
      arguments + ["--sites", "2"] + extra, folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"), "\(aggregator.errors)")
    return (aggregator, try #require(aggregator.endpoint))
  }

  static func startSite(
    _ name: String, endpoint: String, folder: URL, label: String
  ) throws -> NetworkLaunch.Running {
    try NetworkLaunch.Running(
      NetworkLaunch.siteArguments(name, endpoint: endpoint, folder: folder), folder: folder,
      label: label)
  }

  /// Starts haematology, which the aggregator waits for, and checks that
  /// the run ends well for the aggregator and both sites.
  static func finishWithHaematology(
    _ aggregator: NetworkLaunch.Running, joined: NetworkLaunch.Running, endpoint: String,
    folder: URL
  ) throws {
    let other = try startSite("haematology", endpoint: endpoint, folder: folder, label: "other")
    #expect(aggregator.waitForExit() == 0, "\(aggregator.errors)")
    #expect(joined.waitForExit(seconds: 30) == 0, "\(joined.errors)")
    #expect(other.waitForExit(seconds: 30) == 0, "\(other.errors)")
  }

  /// Waits until the aggregator's standard error contains `text`.
  static func waitForErrors(
    _ aggregator: NetworkLaunch.Running, _ text: String, seconds: Double = 60
  ) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !aggregator.errors.contains(text) && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.05)
    }
    return aggregator.errors.contains(text)
  }

  /// A second process started with a joined site's name and key is
  /// rejected with the reason, and the first one trains the run.
  @Test func secondProcessForSiteIsRejected() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // The aggregator waits for haematology, so elderly_renal stays joined
    // and alive while the second process dials in.
    let (aggregator, endpoint) = try Self.startAggregator(
      folder: folder, joinTimeout: 60,
      extra: ["--rounds", "1"] + NetworkLaunch.tinyTraining)
    let first = try Self.startSite(
      "elderly_renal", endpoint: endpoint, folder: folder, label: "first")
    #expect(Self.waitForErrors(aggregator, "site elderly_renal: site joined"))

    let second = try Self.startSite(
      "elderly_renal", endpoint: endpoint, folder: folder, label: "second")
    #expect(second.waitForExit(seconds: 20) == 1, "\(second.errors)")
    #expect(
      second.errors.contains(
        "the aggregator rejected this site: site 'elderly_renal' is already connected from "
          + "another process"), "\(second.errors)")
    #expect(second.errors.contains("a site runs in one process only, so stop one of the two"))
    #expect(
      aggregator.errors.contains("rejected a second process with the same key"),
      "\(aggregator.errors)")

    try Self.finishWithHaematology(
      aggregator, joined: first, endpoint: endpoint, folder: folder)
    #expect(!aggregator.errors.contains("site elderly_renal: site rejoined"))
    let history = try NetworkLaunch.history(folder.appendingPathComponent("network.h5"))
    #expect(history.count == 1)
    #expect(Self.status(history.first, "elderly_renal") == "accepted")
  }

  /// A site killed and started again at once is admitted well within
  /// --site-silence, because its earlier connection has closed.
  @Test func killedSiteRejoinsAtOnce() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (aggregator, endpoint) = try Self.startAggregator(
      folder: folder, joinTimeout: 60,
      extra: ["--rounds", "1", "--site-silence", "600"] + NetworkLaunch.tinyTraining)
    let first = try Self.startSite(
      "elderly_renal", endpoint: endpoint, folder: folder, label: "first")
    #expect(Self.waitForErrors(aggregator, "site elderly_renal: site joined"))
    first.kill()

    let restarted = try Self.startSite(
      "elderly_renal", endpoint: endpoint, folder: folder, label: "restarted")
    #expect(
      Self.waitForErrors(aggregator, "site elderly_renal: site rejoined", seconds: 30),
      "\(aggregator.errors)\n\(restarted.errors)")
    try Self.finishWithHaematology(
      aggregator, joined: restarted, endpoint: endpoint, folder: folder)
    #expect(!restarted.errors.contains("already connected from another process"))
  }

  /// The first round waits --site-silence for a site that has not joined;
  /// later rounds count it as absent at once, until it joins and trains.
  @Test func absentSiteIsWaitedForOnce() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let rounds = 30
    // The present site joins well within 5 s, and the absent one costs the
    // whole join timeout.
    let (aggregator, endpoint) = try Self.startAggregator(
      folder: folder, joinTimeout: 5,
      extra: ["--rounds", "\(rounds)", "--site-silence", "2"] + NetworkLaunch.tinyTraining)
    let present = try Self.startSite(
      "elderly_renal", endpoint: endpoint, folder: folder, label: "present")
    #expect(aggregator.waitForOutput("round 2/\(rounds)"), "\(aggregator.errors)")
    let late = try Self.startSite(
      "haematology", endpoint: endpoint, folder: folder, label: "late")
    #expect(aggregator.waitForExit() == 0, "\(aggregator.errors)")
    #expect(present.waitForExit(seconds: 30) == 0, "\(present.errors)")
    #expect(late.waitForExit(seconds: 30) == 0, "\(late.errors)")

    let history = try NetworkLaunch.history(folder.appendingPathComponent("network.h5"))
    #expect(history.count == rounds)
    #expect(
      Self.reason(history.first, "haematology")?.hasPrefix("dropped out: no heartbeat") == true)
    #expect(
      aggregator.errors.contains(
        "the site has not joined, so later rounds go on without waiting for it until it joins"))
    let second = history.dropFirst().first
    #expect(Self.status(second, "haematology") == "droppedOut")
    #expect(
      Self.reason(second, "haematology")
        == "absent: the site has not joined since it dropped out in round 1, so the round did "
        + "not wait for it")
    #expect(Self.status(history.last, "haematology") == "accepted", "\(aggregator.errors)")
    #expect(history.allSatisfy { Self.status($0, "elderly_renal") == "accepted" })
  }

  static func siteRecord(_ record: [String: Any]?, _ site: String) -> [String: Any]? {
    (record?["sites"] as? [[String: Any]])?.first { $0["site"] as? String == site }
  }

  static func status(_ record: [String: Any]?, _ site: String) -> String? {
    siteRecord(record, site)?["status"] as? String
  }

  static func reason(_ record: [String: Any]?, _ site: String) -> String? {
    siteRecord(record, site)?["rejectionReason"] as? String
  }
}
