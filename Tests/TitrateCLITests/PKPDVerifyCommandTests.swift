import Foundation
import Testing

extension CommandLineTests {
  /// `titrate verify` on a tiny warfarin checkpoint: a baseline passes
  /// with exit 0, an unknown policy name is a usage error, and the report
  /// lists the hard limit and exposure checks of the environment.
  @Test func verifyRunsOnWarfarinCheckpoint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("warfarin.h5").path
    let definition = Self.repositoryRoot.appendingPathComponent("Environments/pkpd/warfarin.json")
    let train = try titrate([
      "train", "--environment", definition.path, "--sites", "1", "--patients-per-site", "4",
      "--rounds", "1", "--hidden-sizes", "8,8", "--output", output, "--quiet",
    ])
    #expect(train.status == 0, "\(train.errors)")
    let baseline = try titrate([
      "verify", output, "--patients", "16", "--policy", "iwpc_pharmacogenetic",
    ])
    #expect(baseline.status == 0, "\(baseline.output)\(baseline.errors)")
    #expect(baseline.output.contains("PASS  hardLimits.dailyDose"))
    #expect(baseline.output.contains("exposure.inrAbove4.warfarin"))
    let learned = try titrate(["verify", output, "--patients", "8"])
    // An untrained network may fail a check (exit 4) but must run.
    #expect(learned.status == 0 || learned.status == 4, "\(learned.errors)")
    #expect(learned.output.contains("nonFiniteObservations.typedError"))
    #expect(learned.output.contains("clinicalSanity.higherINRNeverRaisesDose"))
    let unknown = try titrate(["verify", output, "--policy", "guideline"])
    #expect(unknown.status == 2)
    #expect(unknown.errors.contains("is not one of: learned, iwpc_pharmacogenetic"))
    let shield = try titrate(["verify", output, "--shield"])
    #expect(shield.status == 2)
    #expect(shield.errors.contains("--shield applies to vancomycin checkpoints only"))
  }

  /// `titrate verify` on an example_oral checkpoint, whose definition has
  /// no exposure thresholds, takes them from the definition of the same
  /// name in the `pkpd` subfolder, where linear-kind definitions live.
  @Test func verifyFindsFallbackThresholdsInPKPDFolder() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let shipped = Self.repositoryRoot.appendingPathComponent(
      "Environments/pkpd/example_oral.json")
    let checkpoint = folder.appendingPathComponent("oral.h5").path
    let train = try titrate([
      "train", "--environment", shipped.path, "--sites", "1", "--patients-per-site", "8",
      "--rounds", "1", "--hidden-sizes", "8,8", "--output", checkpoint, "--quiet",
    ])
    #expect(train.status == 0, "\(train.errors)")

    // The shipped folder has no thresholds for example_oral either, and the
    // error names the file it read.
    let missing = try titrate(["verify", checkpoint, "--patients", "8"])
    #expect(missing.status == 3, "\(missing.output)\(missing.errors)")
    let shippedFolder = Self.repositoryRoot.appendingPathComponent("Environments").path
    #expect(missing.errors.contains("\(shippedFolder)/pkpd/example_oral.json"), "\(missing.errors)")
    #expect(!missing.errors.contains("\(shippedFolder)/example_oral.json"), "\(missing.errors)")

    // A copy with a threshold in DIR/pkpd supplies it.
    let environments = folder.appendingPathComponent("environments")
    let library = environments.appendingPathComponent("pkpd")
    try FileManager.default.createDirectory(at: library, withIntermediateDirectories: true)
    var tree = try JSONSerialization.jsonObject(with: Data(contentsOf: shipped)) as! [String: Any]
    var safety = tree["safety"] as! [String: Any]
    safety["exposureThresholds"] = [
      [
        "name": "toxicTrough", "outcome": "toxicTrough", "description": "test threshold",
        "maximumTimeFractionPerPatient": 0, "maximumRate": 1,
      ]
    ]
    tree["safety"] = safety
    let copy = library.appendingPathComponent("example_oral.json")
    try JSONSerialization.data(withJSONObject: tree).write(to: copy)
    let verify = try titrate([
      "verify", checkpoint, "--patients", "8", "--environments-dir", environments.path,
    ])
    #expect(verify.status == 0 || verify.status == 4, "\(verify.output)\(verify.errors)")
    #expect(
      verify.output.contains("exposure thresholds are taken from \(copy.path)"),
      "\(verify.output)\(verify.errors)")
    #expect(verify.output.contains("exposure.toxicTrough.example_oral"), "\(verify.output)")
  }
}
