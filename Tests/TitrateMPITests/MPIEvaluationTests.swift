import Foundation
import Testing

/// `titrate evaluate --transport mpi` prints the same report and writes
/// the same per-patient rows as the run in one process.
@Suite(
  .serialized,
  .enabled(if: MPILaunch.mpirun != nil, "mpirun not found on PATH; install openmpi-bin"))
struct MPIEvaluationTests {
  /// Rank counts and batch sizes: 3 batches per site over 3 ranks, and one
  /// batch per site (4 units) over 4 ranks.
  @Test(arguments: [(3, 50), (4, 20_000)])
  func reportMatchesInProcess(ranks: Int, batchSize: Int) throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let referenceRows = folder.appendingPathComponent("in-process.csv")
    let distributedRows = folder.appendingPathComponent("mpi.csv")
    let arguments = [
      "evaluate", "Checkpoints/vancomycin-4site.h5", "--patients", "120", "--batch-size",
      "\(batchSize)", "--threads", "1", "--worst", "2",
    ]

    let single = try MPILaunch.titrate(arguments + ["--patients-csv", referenceRows.path])
    #expect(single.status == 0, "\(single.errors)")
    let parallel = try MPILaunch.mpirunTitrate(
      ranks: ranks,
      arguments + ["--patients-csv", distributedRows.path, "--transport", "mpi"])
    #expect(parallel.status == 0, "\(parallel.errors)")

    #expect(parallel.output == single.output)
    #expect(!single.output.isEmpty)
    let reference = try String(contentsOf: referenceRows, encoding: .utf8)
    let distributed = try String(contentsOf: distributedRows, encoding: .utf8)
    #expect(distributed == reference)
    // Header, then 4 sites x 4 policies (learned and three baselines) x 120.
    #expect(reference.split(separator: "\n").count == 1 + 4 * 4 * 120)
  }
}
