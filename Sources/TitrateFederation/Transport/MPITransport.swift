import Foundation
import TitrateMPI
import TitratePolicy
import TitrateRL

/// Runs the sites of a federation on the ranks of an MPI job.
///
/// Every rank builds the same `FederatedTrainer` from the same command
/// line. Rank 0 is the aggregator: it runs `runRound()` as in one process,
/// and this transport broadcasts each round's request, trains the sites
/// placed on rank 0, and gathers the other ranks' replies with
/// `MPI_Gatherv`. Every other rank calls `serveSites(trainer:)`, which
/// trains its placed sites (`SitePlacement`) for each request until rank 0
/// calls `finish()`.
///
/// NOTE: every rank builds every site's environment and learner, because
/// `FederatedTrainer` builds them all, so memory grows with the number of
/// sites on each rank rather than with the sites it hosts.
///
/// With `updateCombining == .gather` (the default) every strategy gets
/// every site's full update at rank 0, so validation, simulated attacks,
/// differential privacy and the strategy see the same inputs in the same
/// order as in one process, and the model is the same bit for bit. Only
/// the wall-clock fields of the round records differ. With `.reduce`,
/// mean-based strategies validate and sum the updates on the rank that
/// trained them and add the ranks' sums with `MPI_Reduce` (see
/// `MPITransport+UpdateSum.swift`), which sends one vector per rank
/// instead of one per site but changes the last bits of the model.
public final class MPITransport: FederationTransport {
  /// The job's world communicator.
  public let communicator: MPICommunicator
  /// The assignment of sites to ranks.
  public let placement: SitePlacement

  /// Route of the sites' updates to rank 0, `.gather` unless set.
  public var updateCombining = MPIUpdateCombining.gather

  enum Command: Int {
    case train = 1
    case collectStates = 2
    case stop = 3
    case secureAggregationStage = 4
    case trainAndSum = 5
  }

  /// The site halves of secure aggregation for this rank's sites; created
  /// at the first round of a run with secure aggregation.
  var secureSiteHost: SecureAggregationSiteHost?

  public init(communicator: MPICommunicator) {
    self.communicator = communicator
    placement = SitePlacement(rankCount: communicator.size)
  }

  /// Checks that every rank built the same run as rank 0: the
  /// configuration, the environment layout, the completed rounds and the
  /// global parameters. Every rank must call it before the first round.
  ///
  /// Rank 0 broadcasts its fingerprint, each rank compares it with its
  /// own, and an `MPI_Allreduce` sum of the mismatches lets every rank
  /// throw the same error.
  /// - Throws: `FederationTransportError.configurationMismatch` on every
  ///   rank when any rank differs, or `MPIError`.
  public func verifySameRun(_ trainer: FederatedTrainer) throws {
    let own = try fingerprint(trainer)
    var rootFingerprint = communicator.isRoot ? own : []
    try communicator.broadcast(&rootFingerprint, root: 0)
    var mismatches = [rootFingerprint == own ? 0.0 : 1.0]
    try communicator.allreduceSum(&mismatches)
    if mismatches[0] > 0 {
      throw FederationTransportError.configurationMismatch(mismatchedRanks: Int(mismatches[0]))
    }
  }

  public func trainSites(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult] {
    var message = TransportWriter()
    message.append(Command.train.rawValue)
    message.append(request)
    var bytes = message.bytes
    try communicator.broadcast(&bytes, root: 0)
    return try trainAndGather(request, trainer: trainer)
  }

  public func collectSiteStates(into trainer: FederatedTrainer) throws {
    var message = TransportWriter()
    message.append(Command.collectStates.rawValue)
    var bytes = message.bytes
    try communicator.broadcast(&bytes, root: 0)
    try sendSiteStates(trainer)
  }

  public func finish() throws {
    var message = TransportWriter()
    message.append(Command.stop.rawValue)
    var bytes = message.bytes
    try communicator.broadcast(&bytes, root: 0)
  }

  /// Serves rank 0's requests on a rank other than 0: trains this rank's
  /// sites for every round and sends their states when asked, until rank 0
  /// calls `finish()`.
  /// - Throws: `MPIError` or `FederationTransportError` when a message
  ///   cannot be exchanged or decoded.
  public func serveSites(trainer: FederatedTrainer) throws {
    precondition(!communicator.isRoot, "rank 0 runs the rounds; only other ranks serve sites")
    while true {
      var bytes: [UInt8] = []
      try communicator.broadcast(&bytes, root: 0)
      var reader = TransportReader(bytes, context: "request from rank 0")
      guard let command = Command(rawValue: try reader.readInt()) else {
        throw FederationTransportError.malformedMessage("unknown command in \(bytes.prefix(8))")
      }
      switch command {
      case .train:
        let request = try reader.readRequest()
        _ = try trainAndGather(request, trainer: trainer)
      case .trainAndSum:
        let request = try reader.readUpdateSumRequest()
        let local = try sumAndReduce(request, trainer: trainer)
        trainer.recordStaleDeltas(of: local)
      case .collectStates:
        try sendSiteStates(trainer)
      case .stop:
        return
      case .secureAggregationStage:
        _ = try answerSecureAggregationStage(&reader)
      }
    }
  }

  /// Trains this rank's share of the request and gathers every rank's
  /// results at rank 0, which returns them in request order (other ranks
  /// return an empty array).
  private func trainAndGather(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult] {
    var local = request
    local.siteIndices = placement.sites(request.siteIndices, onRank: communicator.rank)
    var results = local.siteIndices.isEmpty ? [] : trainer.trainSitesLocally(local)
    if trainer.configuration.secureAggregation != nil {
      results = secureSiteReports(results, request: local, trainer: trainer)
    }
    var writer = TransportWriter()
    writer.append(results.count)
    for (index, result) in zip(local.siteIndices, results) {
      writer.append(index)
      try writer.append(result)
    }
    let gathered = try communicator.gather(writer.bytes, root: 0)
    guard communicator.isRoot else { return [] }

    var bySite: [Int: SiteTrainingResult] = [:]
    for (rank, bytes) in gathered.enumerated() {
      var reader = TransportReader(bytes, context: "round \(request.round) reply from rank \(rank)")
      for _ in 0..<(try reader.readInt()) {
        let index = try reader.readInt()
        guard placement.rank(ofSite: index) == rank, request.siteIndices.contains(index) else {
          throw FederationTransportError.unexpectedReply(
            "rank \(rank) sent a result for site \(index), which it was not asked to train")
        }
        bySite[index] = try reader.readResult()
      }
    }
    return try request.siteIndices.map { index in
      guard let result = bySite[index] else {
        throw FederationTransportError.unexpectedReply(
          "no result for site \(index) from rank \(placement.rank(ofSite: index))")
      }
      return result
    }
  }

  /// Gathers the learner state of every site hosted off rank 0 and
  /// restores it into rank 0's copy of that site.
  private func sendSiteStates(_ trainer: FederatedTrainer) throws {
    var writer = TransportWriter()
    // Under secure aggregation a site's learner state (its local model)
    // would reveal its update, so it stays on its rank.
    let sendsStates = !communicator.isRoot && trainer.configuration.secureAggregation == nil
    let owned = placement.sites(Array(trainer.sites.indices), onRank: communicator.rank)
    writer.append(sendsStates ? owned.count : 0)
    if sendsStates {
      for index in owned {
        writer.append(index)
        writer.append(trainer.sites[index].learner.state())
      }
    }
    let gathered = try communicator.gather(writer.bytes, root: 0)
    guard communicator.isRoot else { return }
    for (rank, bytes) in gathered.enumerated() {
      var reader = TransportReader(bytes, context: "site states from rank \(rank)")
      for _ in 0..<(try reader.readInt()) {
        let index = try reader.readInt()
        guard trainer.sites.indices.contains(index), placement.rank(ofSite: index) == rank else {
          throw FederationTransportError.unexpectedReply(
            "rank \(rank) sent the state of site \(index), which it does not host")
        }
        try trainer.sites[index].learner.restore(try reader.readLearnerState())
      }
    }
  }

  /// Bytes that differ when two ranks built different runs.
  private func fingerprint(_ trainer: FederatedTrainer) throws -> [UInt8] {
    var writer = TransportWriter()
    try writer.appendJSON(trainer.configuration)
    writer.append(trainer.observationSize)
    try writer.appendJSON(trainer.actionSpace)
    writer.append(trainer.completedRounds)
    writer.append(trainer.globalParameters)
    return writer.bytes
  }
}
