import Foundation
import Testing
import TitrateCheckpoint

/// `titrate train --transport mpi --mpi-updates reduce` against the same
/// run in one process.
///
/// The reduced path adds the sites' weighted deltas in another order (per
/// rank, then over ranks in Open MPI's order), so its sums may differ from
/// the one-process sums by rounding alone. For a sum of n Double terms
/// each order is within (n - 1) u sum |terms| of the exact value (u =
/// 2^-53), so two orders differ by at most 2 (n - 1) u sum |terms|: about
/// 2^-50 relative for the 4 and 5 sites here. The global model is stored
/// in Float, where one ulp is 2^-23 relative, so after one round each
/// parameter is either the same Float or its neighbour, when the Double
/// value lies next to a rounding boundary: the tolerance is 1 Float ulp.
/// Double server state (FedAdam moments) gets 2^-40 of the entry's
/// largest magnitude, 2^10 times the bound above, which leaves room for
/// cancellation in a coordinate and for the squared pseudo-gradient. A
/// wrong weight or a lost site changes values by far more.
@Suite(
  .serialized,
  .enabled(if: MPILaunch.mpirun != nil, "mpirun not found on PATH; install openmpi-bin"))
struct MPIUpdateSumTests {
  static let tinyTraining = [
    "--patients-per-site", "16", "--minibatch-size", "32", "--update-epochs", "1",
    "--hidden-sizes", "8,8", "--threads", "1", "--quiet",
  ]

  /// Strategy options and rank counts: FedAdam by sample count with two
  /// sites on some ranks, and DP-FedAvg with adaptive clipping, whose sites
  /// clip on their own ranks while the noise and the clip update run at
  /// rank 0.
  @Test(arguments: [
    (
      ["--sites", "5", "--aggregation", "fedadam", "--populations",
       "elderly_renal,haematology,icu_arc,obese,icu_arc"],
      3
    ),
    (
      ["--sites", "4", "--aggregation", "fedavg-uniform", "--normalization", "per-site",
       "--dp-clip", "0.05", "--dp-noise-multiplier", "0.3", "--dp-adaptive-clip"],
      4
    ),
  ])
  func reduceMatchesInProcessWithinRounding(strategy: [String], ranks: Int) throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let reference = folder.appendingPathComponent("in-process.h5")
    let reduced = folder.appendingPathComponent("reduced.h5")
    let arguments = ["train", "--rounds", "1"] + Self.tinyTraining + strategy

    let single = try MPILaunch.titrate(arguments + ["--output", reference.path])
    #expect(single.status == 0, "\(single.errors)")
    let parallel = try MPILaunch.mpirunTitrate(
      ranks: ranks,
      arguments + ["--output", reduced.path, "--transport", "mpi", "--mpi-updates", "reduce"])
    #expect(parallel.status == 0, "\(parallel.errors)")

    #expect(try Self.entriesBeyondRounding(reference, reduced) == [])
  }

  @Test func reduceRejectsBadUpdateByName() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let reference = folder.appendingPathComponent("in-process.h5")
    let reduced = folder.appendingPathComponent("reduced.h5")
    // With 3 ranks, icu_arc trains on rank 2, haematology on rank 1 and
    // obese on rank 0. The Gaussian attack of norm 1e308 overflows to an
    // infinite coordinate, which validation on rank 2 rejects. The stale
    // replay on rank 1 and the late reply on rank 0 run the other paths.
    let arguments =
      [
        "train", "--sites", "4", "--rounds", "2", "--normalization", "federated",
        "--hostile-sites", "icu_arc=gaussian:1e308,haematology=stale",
        "--fail-sites", "obese:2:timeout",
      ] + Self.tinyTraining

    let single = try MPILaunch.titrate(arguments + ["--output", reference.path])
    #expect(single.status == 0, "\(single.errors)")
    let parallel = try MPILaunch.mpirunTitrate(
      ranks: 3,
      arguments + ["--output", reduced.path, "--transport", "mpi", "--mpi-updates", "reduce"])
    #expect(parallel.status == 0, "\(parallel.errors)")

    let rejections = parallel.errors.split(separator: "\n").filter { $0.hasPrefix("round ") }
    #expect(rejections == single.errors.split(separator: "\n").filter { $0.hasPrefix("round ") })
    #expect(
      rejections.contains {
        $0.hasPrefix("round 1: rejected update from site icu_arc: update has non-finite value")
      })
    #expect(
      rejections.contains {
        $0.hasPrefix("round 2: rejected update from site icu_arc: update has non-finite value")
      })
    #expect(rejections.contains { $0.hasPrefix("round 2: no update from site obese: timed out") })
    let left = try CheckpointFile.read(from: reference)
    let right = try CheckpointFile.read(from: reduced)
    // The stale delta was captured on rank 1 and reached rank 0 with the
    // verdicts, so the checkpoint stores it.
    let paths = [
      "metrics/accepted_sites", "metrics/rejected_sites", "normalizer/global/count",
      "sites/haematology/attack/stale_delta",
    ]
    for path in paths {
      #expect(left[path] != nil, "\(path)")
      #expect(left[path] == right[path], "\(path)")
    }
  }

  @Test func reduceWithRobustStrategyIsUsageError() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("mpi.h5")
    let run = try MPILaunch.mpirunTitrate(
      ranks: 2,
      [
        "train", "--sites", "3", "--rounds", "1", "--aggregation", "median", "--output",
        output.path, "--transport", "mpi", "--mpi-updates", "reduce",
      ] + Self.tinyTraining)

    #expect(run.status == 2)
    #expect(run.errors.contains("--mpi-updates reduce cannot be used with this run: the robust"))
    #expect(!FileManager.default.fileExists(atPath: output.path))
  }

  /// Compression wraps the gathering transport, so with reduce the run
  /// would gather every update, ignoring --mpi-updates.
  @Test func reduceWithCompressionIsUsageError() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("mpi.h5")
    let run = try MPILaunch.mpirunTitrate(
      ranks: 2,
      [
        "train", "--sites", "2", "--rounds", "1", "--output", output.path, "--transport", "mpi",
        "--mpi-updates", "reduce", "--update-compression", "float16",
      ] + Self.tinyTraining)

    #expect(run.status == 2)
    #expect(
      run.errors.contains(
        "--update-compression float16 cannot be combined with --mpi-updates reduce"),
      "stderr: \(run.errors)")
    #expect(!FileManager.default.fileExists(atPath: output.path))
  }

  @Test func reduceWithoutMPIIsUsageError() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("in-process.h5")
    let run = try MPILaunch.titrate(
      [
        "train", "--sites", "2", "--rounds", "1", "--output", output.path, "--mpi-updates",
        "reduce",
      ] + Self.tinyTraining)

    #expect(run.status == 2)
    #expect(run.errors.contains("--mpi-updates reduce applies only to MPI jobs"))
    #expect(!FileManager.default.fileExists(atPath: output.path))
  }

  /// Returns the checkpoint entries that differ by more than the rounding
  /// tolerance of the suite's comment: 1 ulp for Float arrays, 2^-40 of
  /// the largest magnitude for Double arrays under `optimizer/`, exact
  /// equality elsewhere. Wall-clock entries are left out as in
  /// `MPILaunch.differingEntries`.
  static func entriesBeyondRounding(_ first: URL, _ second: URL) throws -> [String] {
    let left = try CheckpointFile.read(from: first)
    let right = try CheckpointFile.read(from: second)
    let exactDiffering = Set(try MPILaunch.differingEntries(first, second))
    var beyond: [String] = []
    for path in exactDiffering.sorted() {
      switch (left[path], right[path]) {
      case (.float32(let a)?, .float32(let b)?):
        let withinOneUlp =
          a.shape == b.shape
          && zip(a.values, b.values).allSatisfy { x, y in
            x == y || x.nextUp == y || x.nextDown == y
          }
        if !withinOneUlp { beyond.append(path) }
      case (.float64(let a)?, .float64(let b)?) where path.hasPrefix("optimizer/"):
        let scale = (a.values + b.values).reduce(0.0) { max($0, abs($1)) }
        let tolerance = scale * 0x1p-40
        let within =
          a.shape == b.shape
          && zip(a.values, b.values).allSatisfy { x, y in abs(x - y) <= tolerance }
        if !within { beyond.append(path) }
      default:
        beyond.append(path)
      }
    }
    return beyond
  }
}
