import CMPI

/// The processes of one MPI job (`MPI_COMM_WORLD`) seen from one of them:
/// its rank, the job size, and the collective operations Titrate uses.
///
/// Every collective must be called by every rank in the same order, as MPI
/// requires; a rank that skips one leaves the others waiting. Calls must
/// come from the thread that called `initializeWorld()` (the job runs at
/// `MPI_THREAD_FUNNELED`). Errors come back as `MPIError` because the
/// wrapper sets `MPI_ERRORS_RETURN` on the communicator.
public struct MPICommunicator {
  let handle: MPI_Comm
  /// This process's rank, 0 ..< `size`.
  public let rank: Int
  /// Number of processes in the job, at least 1.
  public let size: Int

  /// True on rank 0, which Titrate uses as the aggregator and the only rank
  /// that prints and writes files.
  public var isRoot: Bool { rank == 0 }

  /// Initialises MPI (once per process) and returns the world communicator.
  ///
  /// Started without `mpirun` or `srun`, Open MPI 4.1.4 runs a singleton
  /// job of size 1 (also as root: only `mpirun` itself needs
  /// `--allow-run-as-root`).
  /// - Throws: `MPIError` when MPI was finalised already (MPI cannot start
  ///   twice) or the library cannot give `MPI_THREAD_FUNNELED`.
  ///   NOTE: Open MPI 4.1.4 aborts the process itself when
  ///   `MPI_Init_thread` fails (its errors are fatal before a handler can
  ///   be set), so that failure never reaches the caller as a code.
  /// Calls `MPI_Init_thread`, `MPI_Comm_set_errhandler`, `MPI_Comm_rank`,
  /// `MPI_Comm_size`.
  public static func initializeWorld() throws(MPIError) -> MPICommunicator {
    if isFinalized {
      throw MPIError(
        call: "MPI_Init_thread", code: -1,
        message: "MPI was already finalised in this process and cannot be initialised again")
    }
    if !isInitialized {
      var provided: Int32 = 0
      let required = Int32(MPI_THREAD_FUNNELED)
      try check(MPI_Init_thread(nil, nil, required, &provided), "MPI_Init_thread")
      guard provided >= required else {
        throw MPIError(
          call: "MPI_Init_thread", code: -1,
          message: "the library provides thread level \(provided), below MPI_THREAD_FUNNELED")
      }
    }
    let world = titrate_MPI_COMM_WORLD()!
    try check(MPI_Comm_set_errhandler(world, titrate_MPI_ERRORS_RETURN()), "MPI_Comm_set_errhandler")
    var rank: Int32 = 0
    var size: Int32 = 0
    try check(MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
    try check(MPI_Comm_size(world, &size), "MPI_Comm_size")
    return MPICommunicator(handle: world, rank: Int(rank), size: Int(size))
  }

  /// True once `MPI_Init_thread` has run in this process (calls
  /// `MPI_Initialized`, which is legal before initialisation).
  public static var isInitialized: Bool {
    var flag: Int32 = 0
    _ = MPI_Initialized(&flag)
    return flag != 0
  }

  /// True once `MPI_Finalize` has run in this process (calls
  /// `MPI_Finalized`).
  public static var isFinalized: Bool {
    var flag: Int32 = 0
    _ = MPI_Finalized(&flag)
    return flag != 0
  }

  /// Shuts MPI down in this process; does nothing when MPI was never
  /// initialised or is finalised already. Every rank must call it, because
  /// Open MPI 4.1 synchronises the job in `MPI_Finalize`.
  /// Calls `MPI_Finalize`.
  public static func finalize() throws(MPIError) {
    guard isInitialized, !isFinalized else { return }
    try check(MPI_Finalize(), "MPI_Finalize")
  }

  /// Ends every process of the job with `exitCode`; the launcher reports
  /// the code. Use it when one rank fails while others may be waiting in a
  /// collective. Calls `MPI_Abort`.
  public func abort(exitCode: Int32) -> Never {
    _ = MPI_Abort(handle, exitCode)
    // MPI_Abort does not return on Open MPI; this keeps the contract if it
    // ever does.
    fatalError("MPI_Abort returned")
  }

  /// Waits until every rank has called `barrier()`. Calls `MPI_Barrier`.
  public func barrier() throws(MPIError) {
    try check(MPI_Barrier(handle), "MPI_Barrier")
  }
}
