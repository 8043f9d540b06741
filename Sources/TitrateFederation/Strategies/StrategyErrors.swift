/// One reason an aggregation strategy cannot work with the given settings
/// or with the number of updates received. Each message names the values,
/// the rule they break and the fix.
public enum StrategyProblem: Equatable, Sendable, CustomStringConvertible {
  /// The round has no participant at all.
  case noParticipants(participantCount: Int)
  /// The assumed number of hostile sites `f` is negative.
  case negativeByzantineCount(byzantineCount: Int)
  /// Krum and Multi-Krum need n > 2f + 2 (Blanchard et al. 2017).
  case tooFewSitesForKrum(participantCount: Int, byzantineCount: Int)
  /// Multi-Krum keeps m updates, and m must lie in 1...n - f.
  case multiKrumSelectionOutOfRange(selectedCount: Int, participantCount: Int, byzantineCount: Int)
  /// Bulyan needs n >= 4f + 3 (El Mhamdi et al. 2018).
  case tooFewSitesForBulyan(participantCount: Int, byzantineCount: Int)
  /// The trimmed mean cuts floor(beta * n) values from each end, so beta
  /// must lie in [0, 0.5) for at least one value per coordinate to remain.
  case trimFractionOutOfRange(trimFraction: Double)
  /// A numeric setting outside its allowed range.
  case parameterOutOfRange(name: String, value: Double, allowed: String)

  public var description: String {
    switch self {
    case .noParticipants(let count):
      return "aggregation needs at least 1 participant per round, got \(count); add sites"
    case .negativeByzantineCount(let count):
      return "the number of hostile sites f must be 0 or more, got \(count); set f >= 0"
    case .tooFewSitesForKrum(let n, let f):
      return
        "krum needs n > 2f + 2: n = \(n), f = \(f); lower f to at most \(max(0, (n - 3) / 2))"
        + " or add sites to reach n = \(2 * f + 3)"
    case .multiKrumSelectionOutOfRange(let m, let n, let f):
      return
        "multi-krum keeps m updates with 1 <= m <= n - f: m = \(m), n = \(n), f = \(f);"
        + " choose m in 1...\(max(1, n - f))"
    case .tooFewSitesForBulyan(let n, let f):
      return
        "bulyan needs n >= 4f + 3: n = \(n), f = \(f); lower f to at most \(max(0, (n - 3) / 4))"
        + " or add sites to reach n = \(4 * f + 3)"
    case .trimFractionOutOfRange(let beta):
      return
        "trimmed mean needs a trim fraction beta in [0, 0.5) so that values remain:"
        + " beta = \(beta); choose beta below 0.5"
    case .parameterOutOfRange(let name, let value, let allowed):
      return "\(name) = \(value) is outside its allowed range \(allowed)"
    }
  }
}

/// Invalid aggregation settings: every problem found, so that a user can fix
/// them all at once.
public struct StrategyConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The problems found, in the order the settings are checked.
  public var problems: [StrategyProblem]

  public init(problems: [StrategyProblem]) {
    self.problems = problems
  }

  public var description: String {
    problems.map(\.description).joined(separator: "; ")
  }
}

/// Failure of one aggregation round. The caller skips the round and keeps
/// the global model unchanged.
public enum StrategyRoundError: Error, Equatable, Sendable, CustomStringConvertible {
  /// No update reached the strategy.
  case noUpdates
  /// An update's length differs from the first update's length.
  case mismatchedLength(siteName: String, received: Int, expected: Int)
  /// The updates received this round break the strategy's bound (for
  /// example, sites dropped out below Bulyan's n >= 4f + 3).
  case boundViolated(StrategyProblem)
  /// The FedPG-BR filter found no update within its radius, not even under
  /// the looser second rule, so there is nothing to average.
  case filterRejectedAll(updateCount: Int, looseRadius: Double)
  /// The stored server optimiser moments have another length than the
  /// update, for example after resuming with a different network shape.
  case stateLengthMismatch(stored: Int, expected: Int)

  public var description: String {
    switch self {
    case .noUpdates:
      return "no valid update reached the aggregator this round; the round is skipped"
    case .mismatchedLength(let site, let received, let expected):
      return
        "update from site \(site) has \(received) parameters, expected \(expected);"
        + " validate updates before aggregation"
    case .boundViolated(let problem):
      return "the updates received this round are too few: \(problem)"
    case .filterRejectedAll(let count, let radius):
      return
        "the FedPG-BR filter rejected all \(count) updates, even within the loose radius"
        + " 2 * sigma = \(radius); the round is skipped. Raise the variance bound sigma if"
        + " honest gradients differ by more than that"
    case .stateLengthMismatch(let stored, let expected):
      return
        "server optimiser state has \(stored) moments per vector, expected \(expected);"
        + " resume from a checkpoint of the same network shape or start a new run"
    }
  }
}
