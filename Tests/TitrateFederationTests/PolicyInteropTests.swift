import Foundation
import Testing
import TitrateCheckpoint
import TitratePolicy
import TitrateRandom

@testable import TitrateFederation

/// h5py and NumPy read a checkpoint Titrate wrote and recompute the
/// policy's logits; they must match Titrate's within 1e-5. Needs python3
/// with numpy and h5py (`make test` installs them).
@Suite struct PolicyInteropTests {
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  struct ScriptOutput: Decodable {
    var logits: [[String]]
    var actions: [Int]
  }

  func runScript(_ arguments: [String]) throws -> ScriptOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
      ["python3", Self.repositoryRoot.appendingPathComponent("scripts/checkpoint_interop.py").path]
      + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    try #require(
      process.terminationStatus == 0,
      "checkpoint_interop.py failed (it needs python3 with numpy and h5py): \(errorText)")
    return try JSONDecoder().decode(ScriptOutput.self, from: data)
  }

  @Test(arguments: [ObservationNormalization.federated, .perSite])
  func numpyRecomputesLogits(normalization: ObservationNormalization) throws {
    var configuration = FederationConfiguration()
    configuration.sites = [
      SiteConfiguration(name: "a", population: "p", patientsPerBatch: 8),
      SiteConfiguration(name: "b", population: "q", patientsPerBatch: 8),
    ]
    configuration.rounds = 2
    configuration.observationNormalization = normalization
    configuration.ppo.stepsPerRollout = 4
    configuration.ppo.minibatchSize = 16
    configuration.ppo.hiddenSizes = [16, 8]
    let trainer = try FederatedTrainer(configuration: configuration) { site, index in
      MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.5 * Double(index))
    }
    try trainer.runRound()
    try trainer.runRound()

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "titrate-interop-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("policy.h5")
    try CheckpointFile.write(
      trainer.checkpointContents(
        environment: StoredEnvironment(name: "matching", definitionJSON: "{}"),
        programVersion: "test"),
      to: file)

    // Observations beyond the one-hot training data exercise the clip.
    let observations: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, -2, 40], [0, 0, 0]]
    let rows = String(decoding: try JSONEncoder().encode(observations), as: UTF8.self)
    let script = try runScript(
      ["policy-actions", file.path, "--observations", rows, "--site", "b"])

    var normalizer = RunningNormalizer(featureCount: 3)
    normalizer.restore(try #require(trainer.normalizerState(site: "b")))
    let network = trainer.globalNetwork()
    let logits = network.policyOutputs(
      observations: normalizer.normalize(observations.flatMap { $0 }), count: observations.count)
    var generator = Xoshiro256(seed: 0)
    let actions = network.actions(
      observations: normalizer.normalize(observations.flatMap { $0 }), count: observations.count,
      deterministic: true, generator: &generator)

    #expect(script.logits.count == observations.count)
    for row in 0..<observations.count {
      for column in 0..<3 {
        let numpy = try #require(Double(script.logits[row][column]))
        let titrate = Double(logits.values[row * 3 + column])
        #expect(abs(numpy - titrate) < 1e-5, "row \(row) column \(column)")
      }
      #expect(script.actions[row] == Int(actions[row]), "row \(row)")
    }
  }
}
