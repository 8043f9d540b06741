import TitrateEnvironments

/// Measurements of one `PPOLearner.trainIteration` call. Loss terms are
/// means over every minibatch of every epoch.
public struct PPOIterationMetrics: Sendable, Equatable {
  /// Mean undiscounted return of the episodes that ended during the
  /// rollout, in reward units; nil when none ended.
  public var meanEpisodeReturn: Double?
  /// Number of episodes that ended during the rollout.
  public var episodesFinished: Int = 0
  /// Environment steps taken in the rollout (steps x batch size).
  public var environmentSteps: Int = 0
  /// Sum of the environments' safety costs over the rollout.
  public var costSum: Double = 0
  /// Mean safety cost of the episodes that ended during the rollout; nil
  /// when none ended. `meanEpisodeReturn` and this are unshaped: the
  /// environment's own reward and cost.
  public var meanEpisodeCost: Double?
  /// Lagrange multiplier the rollout's rewards were shaped with.
  public var costMultiplier: Double = 0
  /// Sample standard deviation of the rollout's advantages before any
  /// standardisation, in units of the shaped reward; 0 for a rollout of
  /// one transition.
  public var advantageStandardDeviation: Double = 0
  /// Clipped surrogate loss (lower is better).
  public var policyLoss: Double = 0
  /// `0.5 * mean((V - return)^2)`, before the value coefficient.
  public var valueLoss: Double = 0
  /// Mean policy entropy, in nats.
  public var entropy: Double = 0
  /// Estimate of KL(old || new) by `mean((r - 1) - log r)` (Schulman's k3).
  public var approximateKL: Double = 0
  /// Share of transitions whose probability ratio left `1 +- clipRange`.
  public var clipFraction: Double = 0
  /// Explained variance of the rollout values against the GAE returns.
  public var explainedVariance: Double = 0
  /// Mean global gradient L2 norm before clipping.
  public var gradientNorm: Double = 0
  /// Adam step size used in this iteration.
  public var learningRate: Double = 0
  /// Clinical outcomes drained from the environment after the rollout.
  public var outcomes = EpisodeOutcomeTally()

  /// Creates empty metrics.
  public init() {}

  /// The metrics as namespaced key/value pairs for CSV or JSON lines.
  /// The mean return is omitted when no episode ended.
  public var keyValues: [(key: String, value: Double)] {
    var pairs: [(key: String, value: Double)] = []
    if let meanEpisodeReturn { pairs.append(("rollout/mean_episode_return", meanEpisodeReturn)) }
    if let meanEpisodeCost { pairs.append(("rollout/mean_episode_cost", meanEpisodeCost)) }
    pairs += [
      ("rollout/episodes", Double(episodesFinished)),
      ("rollout/environment_steps", Double(environmentSteps)),
      ("rollout/cost_sum", costSum),
      ("train/cost_multiplier", costMultiplier),
      ("train/policy_loss", policyLoss),
      ("train/value_loss", valueLoss),
      ("train/entropy_nats", entropy),
      ("train/approx_kl", approximateKL),
      ("train/clip_fraction", clipFraction),
      ("train/explained_variance", explainedVariance),
      ("train/gradient_norm", gradientNorm),
      ("train/learning_rate", learningRate),
    ]
    return pairs
  }
}
