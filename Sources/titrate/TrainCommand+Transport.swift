import TitrateFederation
import TitrateMPI

/// The `--mpi-updates` option of `train`.
let mpiUpdatesOption = OptionSpecification(
  name: "mpi-updates", valueName: "gather|reduce",
  help:
    "with --transport mpi, how site updates reach rank 0. gather sends every update, and the "
    + "model equals the in-process run bit for bit. reduce sums each rank's validated updates "
    + "on that rank and adds the sums with MPI_Reduce, and the model may differ in the last "
    + "bits. reduce needs fedavg, fedavg-uniform, fedavgm, fedadam, fedyogi or fedadagrad "
    + "and neither secure aggregation nor --update-compression",
  defaultValue: "gather")

extension TrainCommand {
  /// Reads `--mpi-updates` and checks it against the transport and the
  /// run's configuration.
  /// - Throws: `CommandError.usage` for an unknown value, for `reduce`
  ///   without `--transport mpi`, or for `reduce` with a strategy that
  ///   needs every update.
  static func updateCombining(
    _ parsed: ParsedOptions, transport: CommandTransport, configuration: FederationConfiguration
  ) throws -> MPIUpdateCombining {
    let name = try parsed.choice("mpi-updates", from: MPIUpdateCombining.allCases.map(\.rawValue))
    let combining = MPIUpdateCombining(rawValue: name)!
    guard combining == .reduce else { return combining }
    if transport.isInProcess {
      throw CommandError.usage(
        "--mpi-updates reduce applies only to MPI jobs; add --transport mpi or omit --mpi-updates")
    }
    if let problem = configuration.updateSumProblem {
      throw CommandError.usage(
        "--mpi-updates reduce cannot be used with this run: \(problem); use --mpi-updates "
          + "gather (the default)")
    }
    return combining
  }

  /// Formats which rank trains which sites, printed once at the start of
  /// an MPI run.
  static func mpiPlacementSummary(_ trainer: FederatedTrainer, world: MPICommunicator) -> String {
    let placement = SitePlacement(rankCount: world.size)
    let names = trainer.siteNames
    let ranks = (0..<world.size).map { rank -> String in
      let sites = placement.sites(Array(names.indices), onRank: rank).map { names[$0] }
      return "rank \(rank): " + (sites.isEmpty ? "idle" : sites.joined(separator: ", "))
    }
    return "mpi: \(world.size) ranks, aggregator on rank 0; " + ranks.joined(separator: "; ")
  }

  /// Releases the ranks that host sites; they return from serving and
  /// finalise MPI.
  static func finishTransport(_ trainer: FederatedTrainer) throws {
    do {
      try trainer.transport.finish()
    } catch {
      throw CommandError.failure("--transport mpi: \(error)")
    }
  }
}
