import Foundation
import Testing

/// `titrate train --transport mpi` under Slurm's `srun --mpi=pmix` and
/// under `salloc ... mpirun` on a one-node cluster that the test starts
/// and stops (scripts/slurm/check.sh with scripts/slurm/local.sh).
///
/// Runs where `scripts/setup.sh --slurm` installed slurm-wlm and munge,
/// and only as root, because slurmd starts job steps as their user. The
/// cluster gets its own state folder and ports 16817 and 16818 on
/// 127.0.0.1, so a cluster on Slurm's default ports is left alone.
@Suite(
  .serialized,
  .enabled(
    if: SlurmCluster.isAvailable,
    "needs root, slurm-wlm, munge, openmpi-bin and hdf5-tools; run scripts/setup.sh --slurm"))
struct SlurmLaunchTests {
  @Test func srunAndSallocMatchInProcess() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let script = MPILaunch.repositoryRoot.appendingPathComponent("scripts/slurm/check.sh")
    // An empty SLURM_CONF makes check.sh start, and on exit stop, its own
    // cluster.
    let run = try MPILaunch.run(
      URL(fileURLWithPath: "/bin/bash"), [script.path, MPILaunch.executable.path],
      environment: [
        "SLURM_CONF": "", "STATE_DIR": folder.appendingPathComponent("slurm").path,
        "SLURM_LOCAL_CONTROLLER_PORT": "16817", "SLURM_LOCAL_NODE_PORT": "16818",
      ])

    #expect(run.status == 0, "\(run.output)\n\(run.errors)")
    let lines = run.output.split(separator: "\n")
    #expect(lines.contains("check: srun model equals the in-process model bit for bit"))
    #expect(lines.contains("check: salloc model equals the in-process model bit for bit"))
    #expect(lines.contains("check: srun without --transport mpi was refused"))
  }
}

/// What the Slurm test needs on this machine.
enum SlurmCluster {
  static let requiredPrograms = [
    "slurmctld", "slurmd", "munged", "srun", "salloc", "sinfo", "mpirun", "h5diff",
  ]

  /// True as root with every required program installed.
  static var isAvailable: Bool {
    getuid() == 0 && requiredPrograms.allSatisfy { MPILaunch.program(named: $0) != nil }
  }
}
