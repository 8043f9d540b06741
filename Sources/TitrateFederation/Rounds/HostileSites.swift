import TitrateEnvironments
import TitrateRandom

/// A simulated attack by a hostile site, for robustness tests and research.
/// The site trains as usual and then replaces its reply, except for
/// `negatedReward`, which corrupts the training itself.
public enum SiteAttack: Codable, Sendable, Equatable {
  /// Sends -factor times its honest delta (factor > 0; 1 is a plain sign
  /// flip).
  case signFlip(factor: Double)
  /// Sends factor times its honest delta (factor > 0).
  case scaled(factor: Double)
  /// Sends a Gaussian vector rescaled to L2 norm `norm` (> 0, parameter
  /// units), drawn from a stream seeded by the run seed, site and round.
  case gaussian(norm: Double)
  /// Replays, in every later round, the honest delta it sent the first
  /// time it took part, labelled with the current round so that it passes
  /// the round check.
  case stale
  /// Trains on negated rewards, so its honest-looking update pushes the
  /// policy toward the worst doses.
  case negatedReward

  /// Short name used in logs and records, with the parameter when there is
  /// one (`sign-flip:1.0`, `gaussian:10.0`).
  public var label: String {
    switch self {
    case .signFlip(let factor): return "sign-flip:\(factor)"
    case .scaled(let factor): return "scaled:\(factor)"
    case .gaussian(let norm): return "gaussian:\(norm)"
    case .stale: return "stale"
    case .negatedReward: return "negated-reward"
    }
  }

  func problems() -> [String] {
    switch self {
    case .signFlip(let value), .scaled(let value), .gaussian(let value):
      return value > 0 && value.isFinite
        ? [] : ["attack \(label): the parameter must be positive and finite"]
    case .stale, .negatedReward:
      return []
    }
  }
}

/// A site that attacks the federation, and how.
public struct HostileSite: Codable, Sendable, Equatable {
  /// Name of the hostile site; it must be one of the run's sites.
  public var site: String
  /// The attack the site runs.
  public var attack: SiteAttack

  /// Creates a hostile site.
  public init(site: String, attack: SiteAttack) {
    self.site = site
    self.attack = attack
  }
}

/// Replaces a hostile site's honest delta by its attack.
///
/// - Parameters:
///   - honestDelta: the delta the site computed.
///   - staleDelta: the delta the site sent the first time it took part;
///     nil in that round, when the honest delta is sent.
///   - generator: the source of the Gaussian attack.
func attackedDelta(
  _ attack: SiteAttack, honestDelta: [Double], staleDelta: [Double]?,
  generator: inout Xoshiro256
) -> [Double] {
  switch attack {
  case .signFlip(let factor):
    return honestDelta.map { -factor * $0 }
  case .scaled(let factor):
    return honestDelta.map { factor * $0 }
  case .gaussian(let norm):
    let direction = honestDelta.map { _ in generator.nextStandardNormal() }
    let length = euclideanNorm(direction)
    guard length > 0 else { return direction }
    return direction.map { $0 * norm / length }
  case .stale:
    return staleDelta ?? honestDelta
  case .negatedReward:
    return honestDelta
  }
}

/// An environment whose rewards are negated, for the `negatedReward`
/// attack. Costs, observations and outcome tallies pass through unchanged,
/// so the site's reported clinical outcomes stay truthful.
final class RewardNegatingEnvironment: VectorizedEnvironment {
  let base: any VectorizedEnvironment

  init(_ base: any VectorizedEnvironment) { self.base = base }

  var batchSize: Int { base.batchSize }
  var observationSize: Int { base.observationSize }
  var actionSpace: ActionSpace { base.actionSpace }

  func reset(seed: UInt64) -> [Float] { base.reset(seed: seed) }

  func step(actions: [Float]) -> EnvironmentStep {
    var result = base.step(actions: actions)
    result.rewards = result.rewards.map { -$0 }
    return result
  }

  func drainEpisodeOutcomes() -> EpisodeOutcomeTally { base.drainEpisodeOutcomes() }
}
