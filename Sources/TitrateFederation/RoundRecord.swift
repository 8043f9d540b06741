/// What one site reported in one round.
public struct SiteRoundRecord: Sendable, Codable, Equatable {
  public var site: String
  /// True when the update passed validation and entered the average.
  public var accepted: Bool
  /// Why the update was rejected, nil when accepted.
  public var rejectionReason: String?
  public var environmentSteps: Int
  public var meanEpisodeReturn: Double?
  /// Fraction of finished episodes whose day-3 AUC24 was inside the
  /// target window, when the environment reports it.
  public var targetAttainment: Double?
  /// Per-episode means of every outcome the environment tallies (for
  /// vancomycin: `day3InTarget`, `anyTroughAboveLimit`, ...).
  public var outcomeMeans: [String: Double]
  /// Episodes that ended during the round.
  public var episodes: Int
  public var secondsTraining: Double
}

/// One federated round: per-site records and pooled figures.
public struct RoundRecord: Sendable, Codable, Equatable {
  public var round: Int
  public var sites: [SiteRoundRecord]
  public var acceptedSites: Int
  public var rejectedSites: Int
  /// Episode return averaged over the sites' finished episodes, weighted by
  /// episode count.
  public var meanEpisodeReturn: Double?
  public var targetAttainment: Double?
  /// Outcome means pooled over all sites' episodes.
  public var outcomeMeans: [String: Double]
  public var environmentSteps: Int
  /// Environment steps (including the PPO update) per wall-clock second.
  public var stepsPerSecond: Double
  public var secondsElapsed: Double
}
