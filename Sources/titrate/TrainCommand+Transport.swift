import TitrateFederation
import TitrateMPI

extension TrainCommand {
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
