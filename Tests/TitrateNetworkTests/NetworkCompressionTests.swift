import Foundation
import Testing
import TitrateCheckpoint
import TitrateFederation

/// `titrate site --update-compression` over 127.0.0.1: a compressed
/// network run equals `titrate train` with the same encoding, each
/// scheme's reply shrinks by the predicted bytes, and an aggregator that
/// does not accept a scheme rejects the site.
@Suite(.serialized)
struct NetworkCompressionTests {
  /// Starts the aggregator and one `titrate site` per entry of `sites`
  /// (name and encoding), and waits for the run to end.
  static func runNetwork(
    _ training: [String], sites: [(String, String)], output: URL, folder: URL,
    siteHeartbeatSeconds: String = "0.2"
  ) throws -> NetworkLaunch.Running {
    let aggregator = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output) + training,
      folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"), "\(aggregator.errors)")
    let endpoint = try #require(aggregator.endpoint)
    let running = try sites.map { name, compression in
      var arguments = NetworkLaunch.siteArguments(name, endpoint: endpoint, folder: folder)
      let interval = try #require(arguments.firstIndex(of: "--heartbeat-interval"))
      arguments[interval + 1] = siteHeartbeatSeconds
      return try NetworkLaunch.Running(
        arguments + ["--update-compression", compression], folder: folder, label: "site-\(name)")
    }
    #expect(aggregator.waitForExit() == 0, "\(aggregator.errors)")
    for site in running {
      #expect(site.waitForExit(seconds: 30) == 0, "\(site.errors)")
    }
    return aggregator
  }

  @Test(arguments: ["int8:64", "topk:0.1"])
  func compressedRunMatchesInProcess(_ compression: String) throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let sites = ["elderly_renal", "haematology", "icu_arc"]
    try NetworkLaunch.makeKeys(["server"] + sites, allowed: sites, folder: folder)
    let training =
      ["--sites", "3", "--rounds", "3", "--checkpoint-every", "0"] + NetworkLaunch.tinyTraining
    let reference = folder.appendingPathComponent("in-process.h5")
    let single = try NetworkLaunch.titrate(
      ["train"] + training
        + ["--update-compression", compression, "--output", reference.path],
      folder: folder, label: "train")
    #expect(single.status == 0, "\(single.errors)")
    #expect(single.output.contains("update compression \(compression) with error feedback"))

    let networked = folder.appendingPathComponent("network.h5")
    _ = try Self.runNetwork(
      training, sites: sites.map { ($0, compression) }, output: networked, folder: folder)
    #expect(try NetworkLaunch.differingEntries(reference, networked) == [])

    // Compression changes the model, so the check above is not vacuous.
    let plain = folder.appendingPathComponent("plain.h5")
    let uncompressed = try NetworkLaunch.titrate(
      ["train"] + training + ["--output", plain.path], folder: folder, label: "plain")
    #expect(uncompressed.status == 0, "\(uncompressed.errors)")
    #expect(
      try NetworkLaunch.differingEntries(reference, plain).contains("policy/layer_0/weight"))
  }

  /// Four sites with four encodings in one run of the main job's network
  /// size (2x64). Each site's reply differs from the Float64 site's by
  /// what `encodedDeltaBytes` predicts. The rest of each round's bytes
  /// (header, site name, round report, a heartbeat or two) differs
  /// between sites by well under the 300 bytes allowed (about 20 seen).
  @Test func bytesPerRoundDropByPredictedAmount() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let schemes = [
      ("elderly_renal", "none"), ("haematology", "float16"), ("icu_arc", "int8"),
      ("obese", "topk:0.05"),
    ]
    let names = schemes.map(\.0)
    try NetworkLaunch.makeKeys(["server"] + names, allowed: names, folder: folder)
    let metrics = folder.appendingPathComponent("network.csv")
    let training = [
      "--sites", "4", "--rounds", "2", "--checkpoint-every", "0", "--patients-per-site", "16",
      "--minibatch-size", "32", "--update-epochs", "1", "--threads", "1", "--seed", "5",
      "--metrics", metrics.path,
    ]
    let output = folder.appendingPathComponent("network.h5")
    let aggregator = try Self.runNetwork(
      training, sites: schemes, output: output, folder: folder, siteHeartbeatSeconds: "5")
    #expect(aggregator.output.contains("4 of 4 sites joined"))
    let moments = try CheckpointFile.read(from: output)["optimizer/server/first_moment"]
    guard case .float64(let array)? = moments else {
      Issue.record("no server moments in the checkpoint")
      return
    }
    let parameterCount = array.values.count

    let lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
    try #require(lines.count == 3)
    let header = lines[0].split(separator: ",").map(String.init)
    for row in lines.dropFirst().map({ $0.split(separator: ",", omittingEmptySubsequences: false) })
    {
      func received(_ site: String) throws -> Int {
        let column = try #require(header.firstIndex(of: "network/\(site)/bytes_received"))
        return try #require(Int(row[column]))
      }
      let full = try received("elderly_renal")
      for (site, name) in schemes.dropFirst() {
        let compression = try UpdateCompression(parsing: name)
        let predicted =
          UpdateCompression.none.encodedDeltaBytes(parameterCount: parameterCount)
          - compression.encodedDeltaBytes(parameterCount: parameterCount)
        let saved = full - (try received(site))
        #expect(abs(saved - predicted) <= 300, "\(name): saved \(saved), predicted \(predicted)")
      }
    }
  }

  @Test func unacceptedSchemeIsRejectedAtJoin() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let sites = ["elderly_renal"]
    try NetworkLaunch.makeKeys(["server"] + sites, allowed: sites, folder: folder)
    var arguments = NetworkLaunch.aggregatorArguments(
      folder: folder, output: folder.appendingPathComponent("run.h5"))
    // The only site is rejected, so the aggregator gives up after this.
    let joinTimeout = try #require(arguments.firstIndex(of: "--join-timeout"))
    arguments[joinTimeout + 1] = "3"
    let aggregator = try NetworkLaunch.Running(
      arguments + ["--sites", "1", "--rounds", "1", "--accept-compression", "none,float16"]
        + NetworkLaunch.tinyTraining,
      folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"), "\(aggregator.errors)")
    let endpoint = try #require(aggregator.endpoint)
    let site = try NetworkLaunch.Running(
      NetworkLaunch.siteArguments("elderly_renal", endpoint: endpoint, folder: folder)
        + ["--update-compression", "int8"], folder: folder, label: "site")
    #expect(site.waitForExit(seconds: 30) != 0)
    #expect(site.errors.contains("sends 'int8:256' updates"), "\(site.errors)")
    #expect(aggregator.waitForExit() != 0)
    #expect(aggregator.errors.contains("elderly_renal"), "\(aggregator.errors)")
  }
}
