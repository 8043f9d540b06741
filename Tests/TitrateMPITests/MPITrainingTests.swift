import Foundation
import Testing

/// `titrate train --transport mpi` under mpirun against the same run in one
/// process: the checkpoints must match bit for bit apart from wall-clock
/// fields.
@Suite(
  .serialized,
  .enabled(if: MPILaunch.mpirun != nil, "mpirun not found on PATH; install openmpi-bin"))
struct MPITrainingTests {
  static let tinyTraining = [
    "--patients-per-site", "16", "--minibatch-size", "32", "--update-epochs", "1",
    "--hidden-sizes", "8,8", "--threads", "1",
  ]

  @Test func threeRanksMatchInProcess() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let reference = folder.appendingPathComponent("in-process.h5")
    let distributed = folder.appendingPathComponent("mpi.h5")
    // A checkpoint every round also exercises the state collection from
    // the site ranks in the middle of the run.
    let arguments =
      ["train", "--sites", "4", "--rounds", "2", "--checkpoint-every", "1"] + Self.tinyTraining

    let single = try MPILaunch.titrate(arguments + ["--output", reference.path])
    #expect(single.status == 0, "\(single.errors)")
    let parallel = try MPILaunch.mpirunTitrate(
      ranks: 3, arguments + ["--output", distributed.path, "--transport", "mpi"])
    #expect(parallel.status == 0, "\(parallel.errors)")

    #expect(try MPILaunch.differingEntries(reference, distributed) == [])
    // Only rank 0 prints: one placement line and one summary line.
    let lines = parallel.output.split(separator: "\n")
    #expect(lines.filter { $0.hasPrefix("trained 2 rounds") }.count == 1)
    #expect(
      lines.contains(
        "mpi: 3 ranks, aggregator on rank 0; rank 0: elderly_renal, obese; "
          + "rank 1: haematology; rank 2: icu_arc"))
  }

  /// Site ranks send each update's advantage-spread factor with it, so the
  /// weighted average is the one-process average.
  @Test func advantageScaledWeightsMatchInProcess() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let reference = folder.appendingPathComponent("in-process.h5")
    let distributed = folder.appendingPathComponent("mpi.h5")
    let arguments =
      [
        "train", "--sites", "3", "--rounds", "2", "--cost-limit", "0.05", "--per-site-limit",
        "--weight-by-multiplier", "--advantage-scaled-weights",
      ] + Self.tinyTraining

    let single = try MPILaunch.titrate(arguments + ["--output", reference.path])
    #expect(single.status == 0, "\(single.errors)")
    let parallel = try MPILaunch.mpirunTitrate(
      ranks: 2, arguments + ["--output", distributed.path, "--transport", "mpi"])
    #expect(parallel.status == 0, "\(parallel.errors)")
    #expect(try MPILaunch.differingEntries(reference, distributed) == [])
  }

  @Test func robustStrategyWithIdleRankMatches() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let reference = folder.appendingPathComponent("in-process.h5")
    let distributed = folder.appendingPathComponent("mpi.h5")
    // The coordinate median needs every update at rank 0; a sign-flipping
    // site and a stale one make the rejected and replayed paths run too.
    let arguments =
      [
        "train", "--sites", "3", "--rounds", "2", "--aggregation", "median",
        "--hostile-sites", "icu_arc=sign-flip,haematology=stale",
      ] + Self.tinyTraining

    let single = try MPILaunch.titrate(arguments + ["--output", reference.path])
    #expect(single.status == 0, "\(single.errors)")
    let parallel = try MPILaunch.mpirunTitrate(
      ranks: 4, arguments + ["--output", distributed.path, "--transport", "mpi"])
    #expect(parallel.status == 0, "\(parallel.errors)")

    #expect(try MPILaunch.differingEntries(reference, distributed) == [])
    #expect(parallel.output.contains("rank 3: idle"))
  }

  @Test func resumeOnOtherRankCountMatches() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let reference = folder.appendingPathComponent("in-process.h5")
    let distributed = folder.appendingPathComponent("mpi.h5")
    let arguments = ["train", "--sites", "4", "--rounds", "3", "--quiet"] + Self.tinyTraining

    let single = try MPILaunch.titrate(arguments + ["--output", reference.path])
    #expect(single.status == 0, "\(single.errors)")
    let first = try MPILaunch.mpirunTitrate(
      ranks: 3,
      arguments + ["--pause-after", "1", "--output", distributed.path, "--transport", "mpi"])
    #expect(first.status == 0, "\(first.errors)")
    let second = try MPILaunch.mpirunTitrate(
      ranks: 2,
      [
        "train", "--resume", distributed.path, "--output", distributed.path, "--transport",
        "mpi", "--quiet",
      ])
    #expect(second.status == 0, "\(second.errors)")

    #expect(try MPILaunch.differingEntries(reference, distributed) == [])
  }

  @Test func ranksWithDifferentRunsAreRejected() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("mpi.h5").path
    let base =
      [
        "train", "--sites", "2", "--rounds", "1", "--output", output, "--transport", "mpi",
        "--quiet",
      ]
      + Self.tinyTraining

    let run = try MPILaunch.mpirunTitrate(perRank: [
      base + ["--seed", "1"], base + ["--seed", "2"],
    ])

    #expect(run.status != 0)
    #expect(run.errors.contains("1 rank(s) built a different run from rank 0"))
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  @Test func inProcessUnderLauncherIsRejected() throws {
    let run = try MPILaunch.mpirunTitrate(
      ranks: 2, ["train", "--sites", "2", "--rounds", "1", "--output", "/nonexistent/x.h5"])

    #expect(run.status == 2)
    #expect(
      run.errors.contains(
        "this process is one of 2 processes started by an MPI launcher, but --transport is "
          + "in-process"))
  }
}
