import Foundation
import Testing

/// `titrate train --secure-aggregation`: a short run, and the combinations
/// the command line rejects with exit code 2.
extension CommandLineTests {
  static let secureTraining = [
    "--sites", "4", "--patients-per-site", "16", "--minibatch-size", "32", "--update-epochs", "2",
    "--hidden-sizes", "16,16", "--checkpoint-every", "0", "--normalization", "per-site",
    "--secure-aggregation",
  ]

  @Test func secureAggregationRunWritesCheckpoint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("run.h5").path
    let run = try titrate(
      ["train", "--rounds", "2", "--output", output] + Self.secureTraining
        + ["--fail-sites", "icu_arc:2"])
    #expect(run.status == 0, "stderr: \(run.errors)")
    #expect(run.output.contains("secure aggregation: threshold 2, 3 neighbours"))
    #expect(run.errors.contains("round 2"))
    #expect(FileManager.default.fileExists(atPath: output))
  }

  @Test(arguments: ["median", "trimmed-mean", "krum", "multi-krum", "bulyan", "fedpg-br"])
  func secureAggregationRejectsRobustStrategy(name: String) throws {
    let run = try titrate(
      ["train", "--rounds", "1", "--output", "/tmp/unused.h5", "--aggregation", name]
        + Self.secureTraining)
    #expect(run.status == 2)
    #expect(run.errors.contains("\(name) inspects individual updates"))
    #expect(run.errors.contains("reveals only their sum"))
  }

  @Test func secureAggregationRejectsOverflowAndStrayOptions() throws {
    let overflow = try titrate(
      ["train", "--rounds", "1", "--output", "/tmp/unused.h5"] + Self.secureTraining
        + ["--secagg-quantization-bits", "31", "--secagg-modulus-bits", "32"])
    #expect(overflow.status == 2)
    #expect(overflow.errors.contains("4 sites x 2147483647"))
    #expect(overflow.errors.contains("Raise --secagg-modulus-bits to 33"))

    let stray = try titrate(
      ["train", "--rounds", "1", "--output", "/tmp/unused.h5", "--secagg-threshold", "3"])
    #expect(stray.status == 2)
    #expect(stray.errors.contains("--secagg-threshold only applies with secure aggregation"))

    let federatedStatistics = try titrate(
      ["train", "--rounds", "1", "--output", "/tmp/unused.h5", "--secure-aggregation"])
    #expect(federatedStatistics.status == 2)
    #expect(federatedStatistics.errors.contains("--normalization per-site"))
  }
}
