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
}
