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

  @Test(arguments: ["obese=sign-flip:", "obese=scaled:", "obese=gaussian:"])
  func hostileSiteWithEmptyParameterIsRejected(item: String) throws {
    let run = try trainOneRound(["--hostile-sites", item])
    #expect(run.status == 2)
    #expect(
      run.errors.contains("--hostile-sites item '\(item)': '' is not a positive number"),
      "stderr: \(run.errors)")
  }

  @Test func hostileSiteWithoutNameIsRejected() throws {
    let run = try trainOneRound(["--hostile-sites", "=stale"])
    #expect(run.status == 2)
    #expect(run.errors.contains("--hostile-sites: unknown site ''"), "stderr: \(run.errors)")
  }

  @Test func minimumAboveSampledSitesIsRejected() throws {
    let run = try trainOneRound(["--sample-sites", "2", "--min-participants", "3"])
    #expect(run.status == 2)
    #expect(run.errors.contains("minimumParticipants: 3 is above the 2 sites sampled per round"))
  }

  @Test func medianOfTwoSitesIsRejected() throws {
    let run = try trainOneRound(["--aggregation", "median", "--sample-sites", "2"])
    #expect(run.status == 2)
    #expect(
      run.errors.contains("median with 2 sites expected per round is the plain mean"),
      "stderr: \(run.errors)")
    #expect(run.output.isEmpty)
  }

  /// 1e-400 underflows to 0, which the message must not show.
  @Test func underflowingDeltaIsShownAsWritten() throws {
    let run = try trainOneRound([
      "--aggregation", "fedavg-uniform", "--dp-clip", "1", "--dp-noise-multiplier", "1",
      "--dp-delta", "1e-400",
    ])
    #expect(run.status == 2)
    #expect(run.errors.contains("--dp-delta 1e-400 is out of range"), "stderr: \(run.errors)")
  }

  /// The help states the range that the check enforces.
  @Test func siteRateHelpMatchesItsRange() throws {
    let help = try titrate(["train", "--help"])
    #expect(help.status == 0)
    #expect(help.output.contains("(Poisson sampling), 1e-6-1"), "help: \(help.output)")
    let tooSmall = try trainOneRound(["--site-rate", "1e-7"])
    #expect(tooSmall.status == 2)
    #expect(tooSmall.errors.contains("--site-rate 1e-7 is out of range"))
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

extension CommandLineTests {
  /// `inspect` shows the federation settings and the epsilon spent. Two
  /// rounds of the Gaussian mechanism with z = 1.1 at sampling rate 1 give
  /// epsilon 6.3274 at delta 1e-5: RDP alpha / (2 z^2) per round,
  /// converted as Balle et al. (AISTATS 2020, Theorem 21) over the Opacus
  /// 1.6 orders, computed apart from Titrate with scipy.
  @Test func inspectShowsPrivacySpent() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("private.h5").path
    let train = try titrate([
      "train", "--rounds", "2", "--patients-per-site", "8", "--update-epochs", "1",
      "--output", output, "--quiet", "--aggregation", "fedavg-uniform", "--normalization",
      "per-site", "--dp-clip", "1", "--dp-noise-multiplier", "1.1",
    ])
    #expect(train.status == 0, "stderr: \(train.errors)")
    let inspected = try titrate(["inspect", output])
    #expect(inspected.status == 0, "stderr: \(inspected.errors)")
    #expect(
      inspected.output.contains(
        "aggregation fedavg-uniform; all sites each round; at least 1 accepted update per round"))
    #expect(inspected.output.contains("central DP: clip 1.0, noise multiplier 1.1"))
    #expect(
      inspected.output.contains("privacy spent: epsilon 6.3274 at delta 1e-05 after 2 rounds"))
  }
}

extension CommandLineTests {
  /// With C = 1, z = 1 and t = 2 the distributed noise has standard
  /// deviation 0.707, so the default range of 1 clips 2 (1 - Phi(1.414)),
  /// about 16 % of the values, and C + 4 sigma is 3.83.
  @Test func secureAggregationWarnsWhenNoiseIsClipped() throws {
    let options = [
      "--secure-aggregation", "--normalization", "per-site", "--aggregation", "fedavg-uniform",
      "--dp-clip", "1", "--dp-noise-multiplier", "1",
    ]
    let clipped = try trainOneRound(options)
    #expect(clipped.status == 0, "stderr: \(clipped.errors)")
    #expect(clipped.errors.contains("about 16% of the values will be clipped"))
    #expect(clipped.errors.contains("Raise --secagg-clip-range to 3.83"))
    let wide = try trainOneRound(options + ["--secagg-clip-range", "4"])
    #expect(wide.status == 0, "stderr: \(wide.errors)")
    #expect(!wide.errors.contains("warning"))
  }
}

extension CommandLineTests {
  /// The checkpoint stores the update compression, so a resume without
  /// the option keeps it. A resume with another encoding is rejected.
  @Test func compressionIsKeptOnResume() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("run.h5").path
    let first = try titrate(
      [
        "train", "--rounds", "3", "--pause-after", "1", "--output", checkpoint,
        "--update-compression", "float16",
      ] + Self.tinyTraining)
    #expect(first.status == 0, "\(first.errors)")

    let other = try titrate([
      "train", "--resume", checkpoint, "--output", checkpoint, "--update-compression", "int8",
    ])
    #expect(other.status == 2)
    #expect(
      other.errors.contains(
        "--update-compression int8:256 differs from the float16 encoding stored in "
          + "\(checkpoint)"),
      "stderr: \(other.errors)")
    #expect(other.errors.contains("omit --update-compression to continue with float16"))

    let resumed = try titrate([
      "train", "--resume", checkpoint, "--output", checkpoint, "--pause-after", "2",
    ])
    #expect(resumed.status == 0, "\(resumed.errors)")
    #expect(resumed.output.contains("update compression float16 with error feedback"))
    let repeated = try titrate([
      "train", "--resume", checkpoint, "--output", checkpoint, "--update-compression", "float16",
    ])
    #expect(repeated.status == 0, "\(repeated.errors)")
    #expect(repeated.output.contains("update compression float16 with error feedback"))
  }

  /// Results do not depend on the thread count, so a resume may change it.
  /// The run then equals an uninterrupted one with the resumed count,
  /// which the checkpoint's configuration records.
  @Test func resumeAcceptsAnotherThreadCount() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let paused = folder.appendingPathComponent("paused.h5").path
    let straight = folder.appendingPathComponent("straight.h5").path
    let first = try titrate(
      ["train", "--rounds", "2", "--pause-after", "1", "--threads", "2", "--output", paused]
        + Self.tinyTraining)
    #expect(first.status == 0, "\(first.errors)")
    let resumed = try titrate([
      "train", "--resume", paused, "--output", paused, "--threads", "1",
    ])
    #expect(resumed.status == 0, "\(resumed.errors)")
    #expect(resumed.output.contains("seed 1, threads 1"), "stdout: \(resumed.output)")
    let uninterrupted = try titrate(
      ["train", "--rounds", "2", "--threads", "1", "--output", straight, "--quiet"]
        + Self.tinyTraining)
    #expect(uninterrupted.status == 0, "\(uninterrupted.errors)")
    let dumps = try [paused, straight].map(Self.storedArrays)
    #expect(dumps[0].count > 20)
    for (path, values) in dumps[0] {
      #expect(values == dumps[1][path], "entry \(path) differs")
    }
  }
}
