import Foundation
import Testing
import TitrateCheckpoint
import TitrateZMQ

@testable import TitrateFederation

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
    // The only site is rejected, so the aggregator gives up after the
    // join timeout.
    let arguments = NetworkLaunch.aggregatorArguments(
      folder: folder, output: folder.appendingPathComponent("run.h5"), joinTimeoutSeconds: 3)
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

  /// The test plays the site with its real key, joins, and replies to the
  /// round's request with an int8 delta whose second scale is NaN. The
  /// aggregator rejects it by site name instead of waiting for another
  /// reply, and with no other site the run ends with every update rejected.
  @Test func malformedUpdateIsRejectedBySite() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(
      ["server", "elderly_renal"], allowed: ["elderly_renal"], folder: folder)
    let output = folder.appendingPathComponent("network.h5")
    let aggregator = try NetworkLaunch.Running(
      NetworkLaunch.aggregatorArguments(folder: folder, output: output)
        + ["--sites", "1", "--rounds", "1"] + NetworkLaunch.tinyTraining,
      folder: folder, label: "aggregator")
    #expect(aggregator.waitForOutput("listening on"), "\(aggregator.errors)")
    let endpoint = try #require(aggregator.endpoint)

    let socket = try NetworkLaunch.siteSocket(
      folder: folder, endpoint: endpoint, site: "elderly_renal")
    defer { socket.close(lingerMilliseconds: 0) }

    func receive(_ type: NetworkMessageType) throws -> NetworkEnvelope {
      let deadline = Date().addingTimeInterval(30)
      while Date() < deadline {
        guard let message = try socket.receive(timeoutMilliseconds: 200) else { continue }
        let envelope = try NetworkEnvelope(
          decoding: message.frames[0], maximumFrameBytes: 1 << 26)
        if envelope.type == type { return envelope }
      }
      throw UpdateCompressionError.malformed(scheme: "test", detail: "no \(type) arrived")
    }
    func send(_ type: NetworkMessageType, run: [UInt8], round: Int, payload: [UInt8]) throws {
      try socket.send([
        NetworkEnvelope(
          type: type, runIdentifier: run, round: round, siteName: "elderly_renal",
          payload: payload
        ).encoded()
      ])
    }

    let hello = NetworkHello(
      environmentSHA256: StoredEnvironment(
        name: "vancomycin",
        definitionJSON: try String(
          contentsOf: NetworkLaunch.repositoryRoot.appendingPathComponent(
            "Environments/vancomycin.json"), encoding: .utf8)
      ).sha256,
      programVersion: "test", updateCompression: "int8:8")
    try send(.hello, run: NetworkEnvelope.unknownRun, round: 0, payload: hello.encoded())
    let welcome = try receive(.welcome)
    try send(.ready, run: welcome.runIdentifier, round: 0, payload: [])
    let train = try receive(.train)
    var reader = TransportReader(train.payload, context: "test")
    let count = try reader.readRequest().globalParameters.count
    var scales = [Float](repeating: 0.01, count: (count + 7) / 8)
    scales[1] = .nan
    var writer = TransportWriter()
    try writer.append(
      UpdateCompressionTests.result(delta: []).renamed("elderly_renal", round: train.round),
      encodedDelta: .int8(
        blockSize: 8, scales: scales, values: [Int8](repeating: 1, count: count)))
    try send(.result, run: welcome.runIdentifier, round: train.round, payload: writer.bytes)

    #expect(aggregator.waitForExit(seconds: 30) == 1, "\(aggregator.errors)")
    #expect(aggregator.errors.contains("elderly_renal"), "\(aggregator.errors)")
    #expect(aggregator.errors.contains("scale of block 1 is nan"), "\(aggregator.errors)")
    let audit = try String(
      contentsOf: folder.appendingPathComponent("network.audit.jsonl"), encoding: .utf8)
    let rejections = audit.split(separator: "\n").filter { $0.contains("\"frame_rejected\"") }
    #expect(rejections.count == 1)
    #expect(rejections.first?.contains("elderly_renal") == true)
    #expect(rejections.first?.contains("malformed int8 update") == true)
  }
}

extension SiteTrainingResult {
  /// Returns the result with the site name and round replaced.
  fileprivate func renamed(_ site: String, round: Int) -> SiteTrainingResult {
    var copy = self
    copy.update.siteName = site
    copy.update.round = round
    copy.record.site = site
    return copy
  }
}
