import TitratePolicy

/// Hyperparameters of proximal policy optimisation (Schulman et al. 2017,
/// "Proximal Policy Optimization Algorithms"). Defaults follow
/// Stable-Baselines3 2.x and CleanRL's `ppo_continuous_action.py` except
/// where a property names another source.
public struct PPOConfiguration: Codable, Sendable, Equatable {
  /// Environment steps collected per environment in one rollout; >= 1.
  public var stepsPerRollout: Int = 128
  /// Passes over the rollout per iteration; >= 1.
  public var updateEpochs: Int = 10
  /// Transitions per gradient step; >= 1. The last minibatch of an epoch
  /// takes the remainder. 256 instead of SB3's 64, because rollouts here
  /// span many environments.
  public var minibatchSize: Int = 256
  /// Adam step size at the first iteration; > 0.
  public var learningRate: Float = 3e-4
  /// Decrease the step size linearly to 0 over `iterations` (CleanRL).
  public var annealLearningRate: Bool = true
  /// Number of `trainIteration` calls the annealing schedule spans; >= 1.
  /// Later calls train with step size 0.
  public var iterations: Int = 100
  /// Discount factor per environment step, in [0, 1].
  public var gamma: Float = 0.99
  /// GAE lambda, in [0, 1]. 1 gives Monte Carlo advantages, 0 one-step TD.
  public var gaeLambda: Float = 0.95
  /// Probability-ratio clip epsilon of the surrogate objective, in (0, 1).
  public var clipRange: Float = 0.2
  /// Weight of the value loss `0.5 * mean((V - return)^2)`; >= 0.
  public var valueCoefficient: Float = 0.5
  /// Weight of the entropy bonus (nats); >= 0.
  public var entropyCoefficient: Float = 0
  /// Global gradient L2 norm above which gradients are rescaled; > 0.
  public var maxGradientNorm: Float = 0.5
  /// Widths of the tanh hidden layers of the policy and value networks.
  public var hiddenSizes: [Int] = [64, 64]
  /// Standardise advantages within each minibatch.
  public var normalizeAdvantages: Bool = true
  /// Standardise observations with running statistics from rollouts, and
  /// clip them to [-10, 10].
  public var normalizeObservations: Bool = true
  /// Adam epsilon, > 0. PPO practice uses 1e-5, not the 1e-8 of Kingma and Ba.
  public var adamEpsilon: Float = 1e-5
  /// Observation entries in which the greedy action must be monotone (see
  /// `MonotoneConstraint`); empty leaves the policy unconstrained.
  public var monotoneInputs: [MonotoneInput] = []
  /// Seed of the learner's generator (initial weights, sampling,
  /// shuffling, environment reset seeds) unless the learner is given one.
  public var seed: UInt64 = 0

  /// Creates the default configuration.
  public init() {}

  /// Transitions collected per rollout for a batch of `environmentCount`.
  public func transitionsPerRollout(environmentCount: Int) -> Int {
    stepsPerRollout * environmentCount
  }

  /// Checks every field and reports all problems at once.
  /// - Throws: `PPOConfigurationError` listing each invalid field with its
  ///   value and the allowed range.
  public func validate() throws(PPOConfigurationError) {
    var problems = [String]()
    func require(_ condition: Bool, _ message: String) {
      if !condition { problems.append(message) }
    }
    require(stepsPerRollout >= 1, "stepsPerRollout is \(stepsPerRollout); use an integer >= 1")
    require(updateEpochs >= 1, "updateEpochs is \(updateEpochs); use an integer >= 1")
    require(minibatchSize >= 1, "minibatchSize is \(minibatchSize); use an integer >= 1")
    require(
      learningRate > 0 && learningRate.isFinite,
      "learningRate is \(learningRate); use a finite value > 0 (3e-4 is typical)")
    require(iterations >= 1, "iterations is \(iterations); use an integer >= 1")
    require((0...1).contains(gamma), "gamma is \(gamma); use a value in [0, 1]")
    require((0...1).contains(gaeLambda), "gaeLambda is \(gaeLambda); use a value in [0, 1]")
    require(
      clipRange > 0 && clipRange < 1, "clipRange is \(clipRange); use a value in (0, 1), e.g. 0.2")
    require(
      valueCoefficient >= 0 && valueCoefficient.isFinite,
      "valueCoefficient is \(valueCoefficient); use a finite value >= 0")
    require(
      entropyCoefficient >= 0 && entropyCoefficient.isFinite,
      "entropyCoefficient is \(entropyCoefficient); use a finite value >= 0")
    require(
      maxGradientNorm > 0 && !maxGradientNorm.isNaN,
      "maxGradientNorm is \(maxGradientNorm); use a value > 0 (infinity disables clipping)")
    require(
      hiddenSizes.allSatisfy { $0 >= 1 },
      "hiddenSizes is \(hiddenSizes); every width must be an integer >= 1")
    require(
      adamEpsilon > 0 && adamEpsilon.isFinite,
      "adamEpsilon is \(adamEpsilon); use a finite value > 0 (1e-5 is typical)")
    if !problems.isEmpty { throw PPOConfigurationError(problems: problems) }
  }
}

/// Raised by `PPOConfiguration.validate()` with every invalid field.
public struct PPOConfigurationError: Error, Equatable, CustomStringConvertible {
  /// One sentence per invalid field: its value and the allowed range.
  public var problems: [String]

  public var description: String {
    "invalid PPO configuration: " + problems.joined(separator: "; ")
  }
}

extension PPOConfiguration {
  private enum CodingKeys: String, CodingKey {
    case stepsPerRollout, updateEpochs, minibatchSize, learningRate, annealLearningRate
    case iterations, gamma, gaeLambda, clipRange, valueCoefficient, entropyCoefficient
    case maxGradientNorm, hiddenSizes, normalizeAdvantages, normalizeObservations
    case adamEpsilon, seed, monotoneInputs
  }

  /// Decodes a configuration in which absent keys keep their defaults, so
  /// a configuration file names only what it changes.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init()
    func read<Value: Decodable>(_ key: CodingKeys, _ value: inout Value) throws {
      if let decoded = try container.decodeIfPresent(Value.self, forKey: key) { value = decoded }
    }
    try read(.stepsPerRollout, &stepsPerRollout)
    try read(.updateEpochs, &updateEpochs)
    try read(.minibatchSize, &minibatchSize)
    try read(.learningRate, &learningRate)
    try read(.annealLearningRate, &annealLearningRate)
    try read(.iterations, &iterations)
    try read(.gamma, &gamma)
    try read(.gaeLambda, &gaeLambda)
    try read(.clipRange, &clipRange)
    try read(.valueCoefficient, &valueCoefficient)
    try read(.entropyCoefficient, &entropyCoefficient)
    try read(.maxGradientNorm, &maxGradientNorm)
    try read(.hiddenSizes, &hiddenSizes)
    try read(.normalizeAdvantages, &normalizeAdvantages)
    try read(.normalizeObservations, &normalizeObservations)
    try read(.adamEpsilon, &adamEpsilon)
    try read(.seed, &seed)
    try read(.monotoneInputs, &monotoneInputs)
  }
}
