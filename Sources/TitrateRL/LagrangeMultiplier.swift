import Foundation

/// A limit on the expected safety cost per episode, enforced by a Lagrange
/// multiplier that rises while the measured cost is above the limit and
/// falls (never below 0) while it is under.
///
/// The learner solves the Lagrangian relaxation of a constrained MDP. PPO
/// runs on the shaped reward `(r - lambda c) / (1 + lambda)`, and a
/// controller raises or lowers lambda between iterations (Tessler,
/// Mankowitz and Mannor 2019, "Reward Constrained Policy Optimization").
/// The `1 / (1 + lambda)` scale follows the PPO-Lagrangian of Ray, Achiam
/// and Amodei 2019 ("Benchmarking Safe Exploration in Deep Reinforcement
/// Learning"). One critic learns the shaped return, as in RCPO, instead of
/// a second critic for the cost.
public struct CostConstraint: Codable, Sendable, Equatable {
  /// Largest acceptable expected cost per episode, in the environment's
  /// cost units; >= 0. With a per-episode indicator cost it is a fraction
  /// of patients (0.04 allows 4 %).
  public var costLimit: Double
  /// Integral gain K_I: step size of the multiplier per update, in
  /// multiplier units per unit of cost excess; > 0.
  public var multiplierLearningRate: Double = 0.05
  /// Multiplier before the first update; >= 0.
  public var initialMultiplier: Double = 0
  /// Upper bound of the multiplier, so one unreachable limit cannot drive
  /// the reward to nothing; > 0.
  public var maximumMultiplier: Double = 100
  /// Proportional gain K_P of the PID Lagrangian (Stooke et al. 2020), in
  /// multiplier units per unit of cost excess; >= 0. 0 gives plain dual
  /// ascent.
  public var proportionalGain: Double = 0
  /// Derivative gain K_D on rises of the measured cost; >= 0.
  public var derivativeGain: Double = 0
  /// Enforce the limit at every site with one multiplier per site, each
  /// stepped from that site's own cost, instead of one multiplier on the
  /// pooled cost (which lets a safe site offset an unsafe one).
  public var perSite: Bool = false
  /// Flag that steps the multiplier from the cost of one extra episode per
  /// site and round, dosed by the broadcast policy's most likely action.
  /// Evaluation and deployment use that policy. The training rollouts
  /// sample their actions, and exploration adds crossings of its own.
  public var onGreedyPolicy: Bool = false
  /// Flag that measures the error on a log scale, `ln(max(cost, limit /
  /// 10) / limit)`, instead of `cost - limit`. A cost can exceed the limit
  /// by any amount but fall below it by at most the limit, so with the
  /// difference the integral fills faster than it drains. On the log scale
  /// a cost at half the limit drains as fast as one at twice the limit
  /// fills. Gains are then in multiplier units per unit of log ratio.
  /// Needs a positive `costLimit`.
  public var logScaleError: Bool = false
  /// Flag that weights each site's update in the federated average by its
  /// sample count times `1 + lambda_k` (its multiplier this round) instead
  /// of its sample count alone. Needs `perSite`.
  ///
  /// Site k trains on `(r - lambda_k c) / (1 + lambda_k)`, so plain FedAvg
  /// gives its cost the weight `lambda_k / (1 + lambda_k) < 1` against
  /// another site's reward, and a site whose limit is hard to meet never
  /// outweighs one site that wants more exposure. Undoing the scale at the
  /// aggregator makes the average the step of the federated Lagrangian
  /// `sum_k n_k (R_k - lambda_k C_k)`. The per-site advantage
  /// normalisation of PPO rescales each update as well, so the match is
  /// approximate.
  public var weightUpdatesByMultiplier: Bool = false
  /// Flag that measures the greedy-policy cost on patients of the site's
  /// own population only, leaving out the edge patients that training
  /// draws (environments that draw none ignore it). Needs
  /// `onGreedyPolicy`. Edge patients (renal failure, extreme weight) can
  /// cross the limit much more often than the population that evaluation
  /// measures, so counting them can hold the population far under it.
  public var greedyCostWithoutEdgePatients: Bool = false
  /// Flag that also multiplies each site's weight by the standard deviation
  /// of its shaped advantages before standardisation, which the site
  /// reports with its update. Needs `weightUpdatesByMultiplier`.
  ///
  /// Adam and advantage standardisation make every site's delta about the
  /// same size whatever the scale of its shaped reward. The site's term of
  /// the Lagrangian, `R_k - lambda_k C_k`, is `1 + lambda_k` times the
  /// shaped objective, whose advantages have this standard deviation, so
  /// the product is the size of the term that the delta stands for.
  public var scaleWeightsByAdvantageSpread: Bool = false

  /// Creates a constraint with the default multiplier schedule.
  public init(
    costLimit: Double, multiplierLearningRate: Double = 0.05, initialMultiplier: Double = 0,
    maximumMultiplier: Double = 100, proportionalGain: Double = 0, derivativeGain: Double = 0,
    perSite: Bool = false, onGreedyPolicy: Bool = false, logScaleError: Bool = false,
    weightUpdatesByMultiplier: Bool = false, greedyCostWithoutEdgePatients: Bool = false,
    scaleWeightsByAdvantageSpread: Bool = false
  ) {
    self.scaleWeightsByAdvantageSpread = scaleWeightsByAdvantageSpread
    self.weightUpdatesByMultiplier = weightUpdatesByMultiplier
    self.greedyCostWithoutEdgePatients = greedyCostWithoutEdgePatients
    self.perSite = perSite
    self.onGreedyPolicy = onGreedyPolicy
    self.logScaleError = logScaleError
    self.costLimit = costLimit
    self.multiplierLearningRate = multiplierLearningRate
    self.initialMultiplier = initialMultiplier
    self.maximumMultiplier = maximumMultiplier
    self.proportionalGain = proportionalGain
    self.derivativeGain = derivativeGain
  }

  private enum CodingKeys: String, CodingKey {
    case costLimit, multiplierLearningRate, initialMultiplier, maximumMultiplier
    case proportionalGain, derivativeGain, perSite, onGreedyPolicy, logScaleError
    case weightUpdatesByMultiplier, greedyCostWithoutEdgePatients, scaleWeightsByAdvantageSpread
  }

  /// Decodes a constraint in which only `costLimit` is required; absent
  /// keys keep their defaults.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(costLimit: try container.decode(Double.self, forKey: .costLimit))
    func read(_ key: CodingKeys, _ value: inout Double) throws {
      if let decoded = try container.decodeIfPresent(Double.self, forKey: key) { value = decoded }
    }
    try read(.multiplierLearningRate, &multiplierLearningRate)
    try read(.initialMultiplier, &initialMultiplier)
    try read(.maximumMultiplier, &maximumMultiplier)
    try read(.proportionalGain, &proportionalGain)
    try read(.derivativeGain, &derivativeGain)
    perSite = try container.decodeIfPresent(Bool.self, forKey: .perSite) ?? false
    onGreedyPolicy = try container.decodeIfPresent(Bool.self, forKey: .onGreedyPolicy) ?? false
    logScaleError = try container.decodeIfPresent(Bool.self, forKey: .logScaleError) ?? false
    weightUpdatesByMultiplier =
      try container.decodeIfPresent(Bool.self, forKey: .weightUpdatesByMultiplier) ?? false
    greedyCostWithoutEdgePatients =
      try container.decodeIfPresent(Bool.self, forKey: .greedyCostWithoutEdgePatients) ?? false
    scaleWeightsByAdvantageSpread =
      try container.decodeIfPresent(Bool.self, forKey: .scaleWeightsByAdvantageSpread) ?? false
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(costLimit, forKey: .costLimit)
    try container.encode(multiplierLearningRate, forKey: .multiplierLearningRate)
    try container.encode(initialMultiplier, forKey: .initialMultiplier)
    try container.encode(maximumMultiplier, forKey: .maximumMultiplier)
    try container.encode(proportionalGain, forKey: .proportionalGain)
    try container.encode(derivativeGain, forKey: .derivativeGain)
    try container.encode(perSite, forKey: .perSite)
    // Written only when set, so configurations without it encode as before.
    if onGreedyPolicy { try container.encode(onGreedyPolicy, forKey: .onGreedyPolicy) }
    if logScaleError { try container.encode(logScaleError, forKey: .logScaleError) }
    if weightUpdatesByMultiplier {
      try container.encode(weightUpdatesByMultiplier, forKey: .weightUpdatesByMultiplier)
    }
    if greedyCostWithoutEdgePatients {
      try container.encode(greedyCostWithoutEdgePatients, forKey: .greedyCostWithoutEdgePatients)
    }
    if scaleWeightsByAdvantageSpread {
      try container.encode(scaleWeightsByAdvantageSpread, forKey: .scaleWeightsByAdvantageSpread)
    }
  }

  /// Computes the controller's error for a measured cost: `cost - limit`,
  /// or the log ratio with the cost floored at a tenth of the limit.
  public func error(cost: Double) -> Double {
    guard logScaleError else { return cost - costLimit }
    return Foundation.log(max(cost, costLimit / 10) / costLimit)
  }

  /// Lists every invalid setting with its value and the allowed range.
  public func problems() -> [String] {
    var found: [String] = []
    if !(costLimit >= 0 && costLimit.isFinite) {
      found.append("costLimit is \(costLimit); use a finite value >= 0")
    }
    if !(multiplierLearningRate > 0 && multiplierLearningRate.isFinite) {
      found.append(
        "multiplierLearningRate is \(multiplierLearningRate); use a finite value > 0 (0.05 is typical)"
      )
    }
    if !(maximumMultiplier > 0 && maximumMultiplier.isFinite) {
      found.append("maximumMultiplier is \(maximumMultiplier); use a finite value > 0")
    }
    if !(proportionalGain >= 0 && proportionalGain.isFinite) {
      found.append("proportionalGain is \(proportionalGain); use a finite value >= 0")
    }
    if !(derivativeGain >= 0 && derivativeGain.isFinite) {
      found.append("derivativeGain is \(derivativeGain); use a finite value >= 0")
    }
    if weightUpdatesByMultiplier && !perSite {
      found.append(
        "weightUpdatesByMultiplier is set, but it weights each site by its own multiplier; "
          + "set perSite (--per-site-limit) or remove it")
    }
    if scaleWeightsByAdvantageSpread && !weightUpdatesByMultiplier {
      found.append(
        "scaleWeightsByAdvantageSpread is set, but it scales the multiplier weighting; set "
          + "weightUpdatesByMultiplier (--weight-by-multiplier) or remove it")
    }
    if greedyCostWithoutEdgePatients && !onGreedyPolicy {
      found.append(
        "greedyCostWithoutEdgePatients is set, but only the greedy-policy cost is measured on "
          + "extra patients; set onGreedyPolicy (--constrain-greedy-policy) or remove it")
    }
    if logScaleError && !(costLimit > 0) {
      found.append(
        "costLimit is \(costLimit), but a log-scale error needs a limit > 0; raise the limit or "
          + "measure the error as a difference")
    }
    if !(initialMultiplier >= 0 && initialMultiplier <= maximumMultiplier) {
      found.append(
        "initialMultiplier is \(initialMultiplier); use a value in [0, maximumMultiplier = "
          + "\(maximumMultiplier)]")
    }
    return found
  }
}

/// The multiplier of a `CostConstraint` and its update rule.
///
/// The update is the PID Lagrangian of Stooke, Achiam and Abbeel (2020,
/// "Responsive Safety in Reinforcement Learning by PID Lagrangian
/// Methods", arXiv 2007.03964) with error `e = cost - limit` (or its log
/// ratio, `CostConstraint.logScaleError`):
///
///     integral <- clamp(integral + K_I e, 0, maximum)
///     lambda   <- clamp(K_P e + integral + K_D max(0, cost - previous cost), 0, maximum)
///
/// With `K_P = K_D = 0` (the defaults) it is plain projected gradient
/// ascent on the dual with step `K_I`. Integral-only control lets the
/// multiplier lag the policy, so constrained PPO swings between a safe and
/// an unsafe policy; the proportional term damps that.
public struct LagrangeMultiplier: Sendable, Equatable {
  /// The constraint being enforced.
  public let constraint: CostConstraint
  /// Current multiplier, in [0, constraint.maximumMultiplier].
  public private(set) var value: Double
  /// Integral term, in multiplier units, in [0, constraint.maximumMultiplier].
  public private(set) var integral: Double
  /// Cost measured at the previous update (for the derivative term); nil
  /// before the first.
  public private(set) var previousCost: Double?

  /// Starts at `constraint.initialMultiplier` (held in the integral term).
  /// - Precondition: `constraint.problems()` is empty.
  public init(constraint: CostConstraint) {
    precondition(constraint.problems().isEmpty, "invalid constraint: \(constraint.problems())")
    self.constraint = constraint
    value = constraint.initialMultiplier
    integral = constraint.initialMultiplier
    previousCost = nil
  }

  /// Resumes from stored parts.
  /// - Throws: `LagrangeMultiplierStateError` when a value is outside its
  ///   range or not finite.
  public init(
    constraint: CostConstraint, value: Double, integral: Double, previousCost: Double?
  ) throws(LagrangeMultiplierStateError) {
    let maximum = constraint.maximumMultiplier
    guard value >= 0, value <= maximum else {
      throw LagrangeMultiplierStateError(name: "multiplier", value: value, maximum: maximum)
    }
    guard integral >= 0, integral <= maximum else {
      throw LagrangeMultiplierStateError(name: "integral", value: integral, maximum: maximum)
    }
    if let previousCost, !previousCost.isFinite {
      throw LagrangeMultiplierStateError(name: "previous cost", value: previousCost, maximum: nil)
    }
    self.init(constraint: constraint)
    self.value = value
    self.integral = integral
    self.previousCost = previousCost
  }

  /// Takes one controller step from the expected episode cost measured
  /// under the current policy. A nil cost (no episode ended) or a
  /// non-finite one leaves the state unchanged.
  public mutating func update(meanEpisodeCost: Double?) {
    guard let cost = meanEpisodeCost, cost.isFinite else { return }
    let maximum = constraint.maximumMultiplier
    let error = constraint.error(cost: cost)
    integral = min(max(integral + constraint.multiplierLearningRate * error, 0), maximum)
    let rise = previousCost.map { max(0, cost - $0) } ?? 0
    let raw =
      constraint.proportionalGain * error + integral + constraint.derivativeGain * rise
    value = min(max(raw, 0), maximum)
    previousCost = cost
  }
}

/// A stored multiplier state that cannot be resumed.
public struct LagrangeMultiplierStateError: Error, Equatable, CustomStringConvertible {
  /// Name of the invalid part: "multiplier", "integral" or "previous cost".
  public var name: String
  /// The stored value.
  public var value: Double
  /// The configured maximum, when the part has one.
  public var maximum: Double?

  public var description: String {
    if let maximum {
      return "stored Lagrange \(name) \(value) is outside 0...\(maximum) (the configured maximum)"
    }
    return "stored Lagrange \(name) \(value) is not finite"
  }
}
