import Foundation
import Testing

/// `titrate train` federation options that do not apply to the chosen
/// aggregation or combination. Each is rejected with exit code 2, not
/// ignored.
extension CommandLineTests {
  /// Runs one round with `options`, writing to a folder that is removed
  /// afterwards, so that a run that wrongly succeeds leaves no file behind.
  func trainOneRound(_ options: [String]) throws -> Run {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    return try titrate(
      [
        "train", "--rounds", "1", "--patients-per-site", "8", "--update-epochs", "1",
        "--output", folder.appendingPathComponent("run.h5").path,
      ] + options)
  }

  @Test(arguments: [
    ("--server-momentum", "0.5", "fedavg", "fedavgm"),
    ("--server-tau", "0.01", "fedavgm", "fedadam, fedyogi, fedadagrad"),
    ("--byzantine-f", "2", "median", "krum, multi-krum, bulyan"),
    ("--multi-krum-m", "2", "krum", "multi-krum"),
    ("--trim-fraction", "0.3", "median", "trimmed-mean"),
    ("--fedpg-sigma", "1", "trimmed-mean", "fedpg-br"),
  ])
  func strategyOptionNeedsItsAggregation(
    option: String, value: String, aggregation: String, users: String
  ) throws {
    let run = try trainOneRound(["--aggregation", aggregation, option, value])
    #expect(run.status == 2)
    #expect(
      run.errors.contains("\(option) only applies to --aggregation \(users), not \(aggregation)"),
      "stderr: \(run.errors)")
    #expect(run.output.isEmpty)
  }

  @Test func minimumAboveSampledSitesIsRejected() throws {
    let run = try trainOneRound(["--sample-sites", "2", "--min-participants", "3"])
    #expect(run.status == 2)
    #expect(run.errors.contains("minimumParticipants: 3 is above the 2 sites sampled per round"))
  }

  @Test func compressionUnderSecureAggregationIsRejected() throws {
    let run = try trainOneRound([
      "--secure-aggregation", "--normalization", "per-site", "--update-compression", "float16",
    ])
    #expect(run.status == 2)
    #expect(
      run.errors.contains(
        "--update-compression float16 cannot be combined with secure aggregation"),
      "stderr: \(run.errors)")
    #expect(run.output.isEmpty)
  }
}
