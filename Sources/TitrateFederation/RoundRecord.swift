/// The fate of a sampled site's update in one round.
public enum SiteRoundStatus: String, Sendable, Codable, Equatable {
  /// The update passed validation and went to the aggregation strategy.
  case accepted
  /// The update failed validation.
  case rejected
  /// The site did not train or send anything (simulated dropout).
  case droppedOut
  /// The reply came after the round closed (simulated, or over the round
  /// deadline).
  case timedOut
}

/// One site's report for one round.
public struct SiteRoundRecord: Sendable, Codable, Equatable {
  /// Site name.
  public var site: String
  /// True when the update passed validation and entered the average.
  public var accepted: Bool
  /// The reason the update did not enter the average (rejected, dropped
  /// out or timed out); nil when accepted.
  public var rejectionReason: String?
  /// The fate of the update. It is nil in histories written before sites
  /// could drop out, where `accepted` is the only status.
  public var status: SiteRoundStatus? = nil
  /// The simulated attack the site ran (`SiteAttack.label`); nil for an
  /// honest site.
  public var attack: String? = nil
  /// Environment steps (patient decisions) the site ran this round.
  public var environmentSteps: Int
  /// Mean undiscounted return of the episodes that ended, reward units.
  public var meanEpisodeReturn: Double?
  /// Mean safety cost of the episodes that ended, in cost units (nil when
  /// none ended, or in histories written before costs were recorded).
  public var meanEpisodeCost: Double? = nil
  /// Mean safety cost of one episode per patient dosed by the broadcast
  /// policy's most likely action, measured before local training. Nil
  /// unless the constraint is on the greedy policy.
  public var greedyEpisodeCost: Double? = nil
  /// Lagrange multiplier the site shaped its rewards with (nil without a
  /// cost constraint).
  public var costMultiplier: Double? = nil
  /// Factor on the site's sample-count weight in the average under
  /// `CostConstraint.weightUpdatesByMultiplier`; nil without it, when the
  /// update was not accepted, or when the round was skipped.
  public var weightFactor: Double? = nil
  /// Fraction of finished episodes whose day-3 AUC24 was inside the
  /// target window, when the environment reports it.
  public var targetAttainment: Double?
  /// Per-episode means of every outcome the environment tallies (for
  /// vancomycin: `day3InTarget`, `anyTroughAboveLimit`, ...).
  public var outcomeMeans: [String: Double]
  /// Episodes that ended during the round.
  public var episodes: Int
  /// Wall-clock seconds of local training.
  public var secondsTraining: Double
}

/// One federated round: per-site records and pooled figures.
public struct RoundRecord: Sendable, Codable, Equatable {
  /// Round number (1-based).
  public var round: Int
  /// One record per site, in configuration order.
  public var sites: [SiteRoundRecord]
  /// Updates that entered the average.
  public var acceptedSites: Int
  /// Updates rejected by validation.
  public var rejectedSites: Int
  /// Sites sampled for the round; nil in histories written before site
  /// sampling, when every site took part.
  public var sampledSites: Int? = nil
  /// Sampled sites that dropped out or timed out.
  public var droppedSites: Int? = nil
  /// The reason the round was skipped with the global model unchanged:
  /// too few accepted updates for `minimumParticipants` or for the
  /// strategy's bound. nil when the round was applied.
  public var skipReason: String? = nil
  /// Sites whose updates the strategy used (Krum, Bulyan and the FedPG-BR
  /// filter drop some accepted updates); nil when the round was skipped.
  public var usedSites: [String]? = nil
  /// Site-level epsilon spent after this round, at the configured delta;
  /// nil without differential privacy.
  public var privacyEpsilon: Double? = nil
  /// Clip norm applied to the deltas this round, parameter units; nil
  /// without differential privacy.
  public var clipNorm: Double? = nil
  /// The secure aggregation summary of the round; nil without it.
  public var secureAggregation: SecureAggregationRoundSummary? = nil
  /// Episode return averaged over the sites' finished episodes, weighted by
  /// episode count.
  public var meanEpisodeReturn: Double?
  /// Episode safety cost pooled over the accepted sites' finished
  /// episodes; the aggregator updates the Lagrange multiplier from it.
  public var meanEpisodeCost: Double? = nil
  /// Greedy-policy episode cost pooled over the accepted sites. When the
  /// constraint is on the greedy policy, this cost steps the multiplier.
  public var greedyEpisodeCost: Double? = nil
  /// Lagrange multiplier the sites shaped their rewards with in this round
  /// (nil without a cost constraint).
  public var costMultiplier: Double? = nil
  /// Pooled fraction of finished episodes in the target window on day 3.
  public var targetAttainment: Double?
  /// Outcome means pooled over all sites' episodes.
  public var outcomeMeans: [String: Double]
  /// Environment steps of all sites.
  public var environmentSteps: Int
  /// Environment steps (including the PPO update) per wall-clock second.
  public var stepsPerSecond: Double
  /// Wall-clock seconds of the whole round.
  public var secondsElapsed: Double
}

/// One site leaving a secure aggregation round, and the stage it left at.
public struct SecureAggregationDrop: Sendable, Codable, Equatable {
  /// Site name.
  public var site: String
  /// The stage after which the site sent nothing more
  /// (`SimulatedDropStage` raw value, for example `afterSharingKeys`).
  public var stage: String
}

/// The secure aggregation part of a round record.
public struct SecureAggregationRoundSummary: Sendable, Codable, Equatable {
  /// Sites whose update is in the unmasked sum.
  public var includedSites: [String]
  /// Sites that left during the protocol, with the stage.
  public var drops: [SecureAggregationDrop]
  /// Dropped sites whose masking keys the server rebuilt to cancel their
  /// pairwise masks.
  public var recoveredMaskingKeys: [String]
  /// The reason the protocol aborted, revealing nothing; nil when it
  /// completed.
  public var abortReason: String?
  /// Protocol bytes sent from the server to sites.
  public var serverToSitesBytes: Int
  /// Protocol bytes sent from sites to the server.
  public var sitesToServerBytes: Int
  /// Wall-clock seconds of the protocol in this process (all sites and
  /// the server, one thread), without local training.
  public var protocolSeconds: Double = 0
}
