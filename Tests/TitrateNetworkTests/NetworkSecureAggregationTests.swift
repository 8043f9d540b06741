import Foundation
import Testing
import TitrateCheckpoint

/// Secure aggregation run by `titrate site` processes on 127.0.0.1: a site
/// that ends or stalls at a protocol stage is recovered as a dropout at
/// that stage, and the model equals the in-process secure run that has
/// the same sum.
@Suite(.serialized)
struct NetworkSecureAggregationTests {
  /// Four sites give each site three neighbours with a threshold of 2,
  /// so one site can leave at any stage and the round still completes.
  static let sites = ["elderly_renal", "haematology", "icu_arc", "obese"]
  static let training =
    ["--sites", "4", "--rounds", "2", "--secure-aggregation", "--normalization", "per-site"]
    + NetworkLaunch.tinyTraining

  /// Runs the aggregator and the four sites, with `fault` given to
  /// `faultySite`, and returns the aggregator and the site processes.
  static func runWithFault(
    _ fault: String, faultySite: String, output: URL, folder: URL
  ) throws -> (NetworkLaunch.Running, [String: NetworkLaunch.Running]) {
    let aggregator = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output)
        + ["--secagg-stage-deadline", "3", "--site-silence", "2"] + training,
      folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"), "\(aggregator.errors)")
    let endpoint = try #require(aggregator.endpoint)
    var running: [String: NetworkLaunch.Running] = [:]
    for name in sites {
      let extra = name == faultySite ? ["--secagg-fault", fault] : []
      running[name] = try NetworkLaunch.Running(
        NetworkLaunch.siteArguments(name, endpoint: endpoint, folder: folder) + extra,
        folder: folder, label: "site-\(name)")
    }
    #expect(aggregator.waitForExit() == 0, "\(aggregator.errors)")
    return (aggregator, running)
  }

  /// Returns the model entries (policy, value, server optimiser) that differ.
  static func differingModelEntries(_ first: URL, _ second: URL) throws -> [String] {
    let left = try CheckpointFile.read(from: first)
    let right = try CheckpointFile.read(from: second)
    let model = Set(left.paths).union(right.paths).filter {
      $0.hasPrefix("policy/") || $0.hasPrefix("value/") || $0.hasPrefix("optimizer/")
    }
    #expect(!model.isEmpty)
    return model.sorted().filter { left[$0] != right[$0] }
  }

  /// Returns the last round's secure aggregation summary.
  static func lastSummary(_ url: URL) throws -> [String: Any] {
    let history = try NetworkLaunch.history(url)
    return try #require(history.last?["secureAggregation"] as? [String: Any])
  }

  @Test func siteEndedAtUnmaskingStaysInSum() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(["server"] + Self.sites, allowed: Self.sites, folder: folder)
    let reference = folder.appendingPathComponent("in-process.h5")
    let single = try NetworkLaunch.titrate(
      ["train"] + Self.training + ["--output", reference.path], folder: folder, label: "train")
    #expect(single.status == 0, "\(single.errors)")

    let networked = folder.appendingPathComponent("network.h5")
    let (aggregator, sites) = try Self.runWithFault(
      "2:unmasking:exit", faultySite: "icu_arc", output: networked, folder: folder)
    #expect(sites["icu_arc"]!.waitForExit(seconds: 30) == 3)
    for name in Self.sites where name != "icu_arc" {
      #expect(sites[name]!.waitForExit(seconds: 30) == 0, "\(sites[name]!.errors)")
    }

    // icu_arc sent its masked input before it ended, and the other three
    // sites hold enough shares of every self-mask seed, so the sum is the
    // full one and the model equals the run without a fault.
    #expect(try Self.differingModelEntries(reference, networked) == [])
    let summary = try Self.lastSummary(networked)
    #expect(summary["abortReason"] == nil)
    #expect(summary["includedSites"] as? [String] == Self.sites)
    let drops = try #require(summary["drops"] as? [[String: String]])
    #expect(drops == [["site": "icu_arc", "stage": "afterMaskedInput"]])
    #expect(aggregator.errors.contains("stage unmasking: 3 of 4 sites replied; silent: icu_arc"))
  }

  @Test func siteStalledAtMaskedInputIsRecovered() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(["server"] + Self.sites, allowed: Self.sites, folder: folder)
    // In one process, a site that times out in round 2 has no input and
    // leaves after sharing keys: the same sum as a site that stalls.
    let reference = folder.appendingPathComponent("in-process.h5")
    let single = try NetworkLaunch.titrate(
      ["train"] + Self.training
        + ["--fail-sites", "haematology:2:timeout", "--output", reference.path],
      folder: folder, label: "train")
    #expect(single.status == 0, "\(single.errors)")

    let networked = folder.appendingPathComponent("network.h5")
    let (aggregator, sites) = try Self.runWithFault(
      "2:maskedInput:stall", faultySite: "haematology", output: networked, folder: folder)
    for name in Self.sites {
      #expect(sites[name]!.waitForExit(seconds: 30) == 0, "\(sites[name]!.errors)")
    }

    #expect(try Self.differingModelEntries(reference, networked) == [])
    let summary = try Self.lastSummary(networked)
    #expect(summary["includedSites"] as? [String] == ["elderly_renal", "icu_arc", "obese"])
    #expect(summary["recoveredMaskingKeys"] as? [String] == ["haematology"])
    let drops = try #require(summary["drops"] as? [[String: String]])
    #expect(drops == [["site": "haematology", "stage": "afterSharingKeys"]])

    // The audit log records every stage and the dropout, with no key.
    let audit = try String(
      contentsOf: folder.appendingPathComponent("network.audit.jsonl"), encoding: .utf8)
    let events = audit.split(separator: "\n").map {
      try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
    #expect(events.filter { $0["event"] as? String == "secure_stage_closed" }.count == 8)
    let dropped = events.filter {
      $0["event"] as? String == "site_dropped" && $0["site"] as? String == "haematology"
    }
    #expect(dropped.count == 1)
    #expect((dropped.first?["detail"] as? String)?.contains("stage maskedInput") == true)
    let rejected = events.filter {
      $0["event"] as? String == "update_rejected" && $0["round"] as? Int == 2
    }
    #expect(rejected.map { $0["site"] as? String } == ["haematology"])
    for name in Self.sites {
      let key = try String(
        contentsOf: folder.appendingPathComponent("keys/\(name).pub"), encoding: .utf8)
      #expect(!audit.contains(key.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
    #expect(aggregator.output.contains("trained 2 rounds"))
  }
}
