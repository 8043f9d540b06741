import TitratePolicy

/// The message the aggregator sends to the sites of one round.
public struct SiteTrainingRequest: Sendable, Equatable {
  /// Round number (1-based).
  public var round: Int
  /// Indices (configuration order) of the sites that train this round.
  public var siteIndices: [Int]
  /// The global parameters in `ActorCritic` flat order.
  public var globalParameters: [Float]
  /// The global observation statistics (used under federated
  /// normalisation).
  public var normalizer: RunningNormalizer.State
  /// The Lagrange multiplier of every site in configuration order, 0
  /// without a cost constraint.
  public var costMultipliers: [Float]

  public init(
    round: Int, siteIndices: [Int], globalParameters: [Float],
    normalizer: RunningNormalizer.State, costMultipliers: [Float]
  ) {
    self.round = round
    self.siteIndices = siteIndices
    self.globalParameters = globalParameters
    self.normalizer = normalizer
    self.costMultipliers = costMultipliers
  }
}

/// One site's reply to a `SiteTrainingRequest`: its update and its report.
public struct SiteTrainingResult: Sendable {
  /// The model delta, sample count and observation statistics.
  public var update: ModelUpdate
  /// The site's round report (steps, returns, outcomes, training time).
  public var record: SiteRoundRecord

  public init(update: ModelUpdate, record: SiteRoundRecord) {
    self.update = update
    self.record = record
  }
}

/// A channel between the aggregator and its sites: in this process, or to
/// other processes of an MPI job.
///
/// A transport only moves the round's broadcast to the sites and their
/// replies back. Validation, the aggregation strategy, differential
/// privacy and the server step run in the aggregator's process on the
/// gathered replies, so every transport feeds them the same inputs.
public protocol FederationTransport: AnyObject {
  /// Trains the requested sites and returns their results in the order of
  /// `request.siteIndices`.
  func trainSites(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult]

  /// Copies the learner state (Adam moments, observation statistics,
  /// generator, iteration count) of sites trained in other processes into
  /// `trainer`, so that a checkpoint written next contains every site's state.
  func collectSiteStates(into trainer: FederatedTrainer) throws

  /// Tells the processes that host sites that the run is over.
  func finish() throws
}

/// Trains every site in the aggregator's process, `configuration.threads`
/// sites at a time; the default transport.
public final class InProcessTransport: FederationTransport {
  public init() {}

  public func trainSites(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult] {
    trainer.trainSitesLocally(request)
  }

  public func collectSiteStates(into trainer: FederatedTrainer) throws {}

  public func finish() throws {}
}

/// Which process trains which site: site `i` runs on rank `i mod size`.
///
/// The rule is round-robin so that sampled rounds and sites with equal
/// batches spread evenly. Rank 0, the aggregator, hosts sites too. With
/// more ranks than sites, ranks `siteCount ..< size` host nothing: they
/// take part in every collective with empty contributions and do no
/// training.
public struct SitePlacement: Sendable, Equatable {
  /// Number of processes, at least 1.
  public var rankCount: Int

  public init(rankCount: Int) {
    precondition(rankCount >= 1, "rank count must be at least 1, got \(rankCount)")
    self.rankCount = rankCount
  }

  /// Returns the rank that trains site `siteIndex` (configuration order).
  public func rank(ofSite siteIndex: Int) -> Int { siteIndex % rankCount }

  /// Returns the sites among `siteIndices` that `rank` trains, in the
  /// given order.
  public func sites(_ siteIndices: [Int], onRank rank: Int) -> [Int] {
    siteIndices.filter { self.rank(ofSite: $0) == rank }
  }
}

/// Errors of a transport between the aggregator and its sites.
public enum FederationTransportError: Error, Equatable, CustomStringConvertible {
  /// A message between ranks could not be decoded.
  case malformedMessage(String)
  /// Some ranks built a different run (configuration, environment or
  /// round) from the one on rank 0.
  case configurationMismatch(mismatchedRanks: Int)
  /// A rank replied for a site it does not host or left a site out.
  case unexpectedReply(String)
  /// The run's configuration cannot sum updates where the sites train. The
  /// text gives the reason.
  case updateSumUnsupported(String)

  public var description: String {
    switch self {
    case .malformedMessage(let detail):
      return "malformed message between ranks: \(detail)"
    case .configurationMismatch(let count):
      return "\(count) rank(s) built a different run from rank 0 (configuration, environment "
        + "definition or resumed round differ); start every rank with the same command line, "
        + "files and titrate build"
    case .unexpectedReply(let detail):
      return "unexpected reply from a rank: \(detail)"
    case .updateSumUnsupported(let reason):
      return "updates cannot be summed where the sites train: \(reason); send every update "
        + "to the aggregator instead (--mpi-updates gather)"
    }
  }
}
