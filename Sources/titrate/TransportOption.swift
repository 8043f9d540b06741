import Foundation
import TitrateMPI

/// The `--transport` option of `train` and `evaluate`.
let transportOption = OptionSpecification(
  name: "transport", valueName: "in-process|mpi",
  help:
    "run every site in this process, or spread sites (train) or patients (evaluate) over the "
    + "ranks of an MPI job started with mpirun or srun; rank 0 prints and writes files",
  defaultValue: "in-process")

/// The processes a command runs its work in.
enum CommandTransport {
  /// Everything in this process; MPI is never initialised.
  case inProcess
  /// Spread over the ranks of an MPI job.
  case mpi(MPICommunicator)

  /// True for `.inProcess`.
  var isInProcess: Bool {
    if case .inProcess = self { return true }
    return false
  }

  /// True where the command may print and write files: always in process,
  /// only rank 0 under MPI.
  var isRoot: Bool {
    if case .mpi(let world) = self { return world.isRoot }
    return true
  }

  /// Reads `--transport` and, for `mpi`, initialises MPI and sends the
  /// standard output of ranks other than 0 to /dev/null, so the job
  /// prints one report.
  ///
  /// Without a launcher, `--transport mpi` starts a singleton job of one
  /// rank that runs like `in-process`.
  /// - Throws: `CommandError.usage` for an unknown value, or for
  ///   `in-process` when the environment shows that mpirun or srun started
  ///   this process as one of several. `CommandError.failure` when MPI
  ///   cannot start.
  static func parse(_ parsed: ParsedOptions) throws -> CommandTransport {
    let name = try parsed.choice("transport", from: ["in-process", "mpi"])
    guard name == "mpi" else {
      if let size = launcherJobSize(), size > 1 {
        throw CommandError.usage(
          "this process is one of \(size) processes started by an MPI launcher, but "
            + "--transport is in-process, so each would run the whole command and write the "
            + "same files; add --transport mpi, or run titrate without mpirun or srun")
      }
      return .inProcess
    }
    let world: MPICommunicator
    do {
      world = try MPICommunicator.initializeWorld()
    } catch {
      throw CommandError.failure(
        "--transport mpi: \(error); check the Open MPI installation (openmpi-bin) and start "
          + "titrate with mpirun -n P or srun --mpi=pmix")
    }
    activeCommunicator = world
    if !world.isRoot { silenceStandardOutput() }
    return .mpi(world)
  }

  /// Returns the job size that Open MPI's mpirun (`OMPI_COMM_WORLD_SIZE`),
  /// a PMI-2 launcher such as `srun --mpi=pmi2` (`PMI_SIZE`) or any `srun`
  /// job step (`SLURM_STEP_NUM_TASKS`, which Slurm 22.05 sets for every
  /// task, `--mpi=pmix` included) records in the environment, or nil for
  /// a plain start.
  static func launcherJobSize() -> Int? {
    let environment = ProcessInfo.processInfo.environment
    for key in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"] {
      if let value = environment[key], let size = Int(value) { return size }
    }
    return nil
  }

  private static func silenceStandardOutput() {
    fflush(nil)
    let null = open("/dev/null", O_WRONLY)
    if null >= 0 {
      dup2(null, STDOUT_FILENO)
      close(null)
    }
  }
}

/// The MPI job this process belongs to, once a command chose
/// `--transport mpi`; nil otherwise.
nonisolated(unsafe) var activeCommunicator: MPICommunicator?

/// Ends the process with `code`, shutting MPI down first when it runs.
///
/// On success every rank finalises MPI. On failure in a job of several
/// ranks, the other ranks may be waiting in a collective, and Open MPI's
/// `MPI_Finalize` waits for every rank, so the job is aborted instead and
/// the launcher reports `code`. Pass `othersFinishing` when the command
/// has already released the other ranks, so they finalise too.
func exitProcess(_ code: Int32, othersFinishing: Bool = false) -> Never {
  if let world = activeCommunicator {
    if code != 0 && world.size > 1 && !othersFinishing { world.abort(exitCode: code) }
    do {
      try MPICommunicator.finalize()
    } catch {
      printError("titrate: \(error)")
    }
  }
  exit(code)
}

/// Returns the start of an error line: `titrate COMMAND`, followed by the
/// rank on ranks other than 0 of an MPI job.
func errorPrefix(command: String) -> String {
  guard let world = activeCommunicator, !world.isRoot else { return "titrate \(command)" }
  return "titrate \(command) (rank \(world.rank) of \(world.size))"
}
