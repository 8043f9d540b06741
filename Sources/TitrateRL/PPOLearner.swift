import TitrateEnvironments
import TitrateLinearAlgebra
import TitratePolicy
import TitrateRandom

/// Proximal policy optimisation with a clipped surrogate (Schulman et al.
/// 2017) over a `VectorizedEnvironment`, following the core details listed
/// by Huang et al. (2022, "The 37 Implementation Details of PPO"):
/// carried-over observations between rollouts, GAE with truncation
/// bootstrapping, shuffled minibatches, per-minibatch advantage
/// normalisation, global gradient clipping and linear step-size annealing.
///
/// Every random draw (initial weights, actions, shuffles, environment
/// reset seeds) comes from one `Xoshiro256`, so a learner is reproducible
/// from its seed, and `state()` / `restore(_:)` resume it bit for bit.
public final class PPOLearner {
  /// Hyperparameters, validated at initialisation.
  public let configuration: PPOConfiguration
  /// Features per observation.
  public let observationSize: Int
  /// The environment's action space.
  public let actionSpace: ActionSpace
  /// The networks being trained.
  public internal(set) var actorCritic: ActorCritic
  /// The optimiser over `actorCritic.parameterVector()`.
  public internal(set) var optimizer: Adam
  /// Observation statistics; updated during rollouts only.
  public internal(set) var normalizer: RunningNormalizer
  /// The source of every random draw.
  public internal(set) var generator: Xoshiro256
  /// Number of completed `trainIteration` calls (drives annealing).
  public internal(set) var completedIterations = 0
  /// Lagrange multiplier on the safety cost, >= 0. The learner optimises
  /// the shaped reward `(r - multiplier * c) / (1 + multiplier)`; 0 (the
  /// default) is plain PPO. A `LagrangeMultiplier` (or the federated
  /// aggregator) sets it between iterations from the measured episode cost.
  public var costMultiplier: Float = 0 {
    willSet {
      precondition(
        newValue >= 0 && newValue.isFinite,
        "cost multiplier must be finite and >= 0, got \(newValue)")
    }
  }

  /// FedProx term added to each minibatch gradient after gradient-norm
  /// clipping, so the clip bounds the loss gradient only. nil (the
  /// default) trains on the PPO loss alone. The proximal gradient is zero at the
  /// anchor, so `estimateGradient` at the anchor is unaffected.
  public var proximalTerm: ProximalTerm?

  /// Raw observations of the batch to act on next; nil before the first
  /// rollout, which then resets the environment.
  var currentObservations: [Float]?
  /// Undiscounted return so far of each environment's running episode.
  var runningReturns: [Double] = []
  /// Safety cost so far of each environment's running episode.
  var runningCosts: [Double] = []

  /// Creates a learner with freshly initialised networks.
  /// - Parameters:
  ///   - seed: seeds the learner's generator; nil uses `configuration.seed`.
  /// - Throws: `PPOConfigurationError` listing every invalid setting.
  public init(
    configuration: PPOConfiguration, observationSize: Int, actionSpace: ActionSpace,
    seed: UInt64? = nil
  ) throws(PPOConfigurationError) {
    try configuration.validate()
    precondition(observationSize > 0, "observation size must be positive, got \(observationSize)")
    self.configuration = configuration
    self.observationSize = observationSize
    self.actionSpace = actionSpace
    var generator = Xoshiro256(seed: seed ?? configuration.seed)
    var constraint: MonotoneConstraint?
    if !configuration.monotoneInputs.isEmpty {
      do {
        constraint = try MonotoneConstraint(
          inputs: configuration.monotoneInputs, observationSize: observationSize,
          actionSpace: actionSpace)
      } catch {
        throw PPOConfigurationError(problems: ["monotoneInputs: \(error)"])
      }
    }
    actorCritic = ActorCritic(
      observationSize: observationSize, actionSpace: actionSpace,
      hiddenSizes: configuration.hiddenSizes, monotoneConstraint: constraint,
      generator: &generator)
    self.generator = generator
    optimizer = Adam(
      parameterCount: actorCritic.parameterCount, learningRate: configuration.learningRate,
      epsilon: configuration.adamEpsilon)
    normalizer = RunningNormalizer(featureCount: observationSize)
  }

  /// The Adam step size for the next iteration: `learningRate` scaled by
  /// `1 - completedIterations / iterations` when annealing, never below 0.
  public var currentLearningRate: Float {
    guard configuration.annealLearningRate else { return configuration.learningRate }
    let remaining = 1 - Double(completedIterations) / Double(configuration.iterations)
    return Float(max(0, remaining)) * configuration.learningRate
  }

  /// Returns the flat parameter vector of `actorCritic` (see `ActorCritic`).
  public func parameterVector() -> [Float] { actorCritic.parameterVector() }

  /// Replaces the network parameters, for example with a federated
  /// average. The optimiser state is kept.
  public func setParameterVector(_ vector: [Float]) {
    actorCritic.setParameterVector(vector)
  }

  /// Replaces the observation statistics, for example with merged
  /// statistics from several sites.
  public func restoreNormalizer(_ state: RunningNormalizer.State) {
    normalizer.restore(state)
  }

  /// Returns one environment action per raw observation, normalised with
  /// the current statistics (which are not updated).
  public func actions(
    observations: [Float], count: Int, deterministic: Bool, generator: inout Xoshiro256
  ) -> [Float] {
    actorCritic.actions(
      observations: normalizedForPolicy(observations), count: count,
      deterministic: deterministic, generator: &generator)
  }

  /// Applies the observation normaliser when the configuration enables it.
  func normalizedForPolicy(_ observations: [Float]) -> [Float] {
    configuration.normalizeObservations ? normalizer.normalize(observations) : observations
  }

  /// Runs one PPO iteration: a rollout of `stepsPerRollout` steps across
  /// the whole batch, then `updateEpochs` epochs of minibatch updates.
  ///
  /// - Precondition: the environment's batch size is positive and its
  ///   observation size and action space match the learner's. Keep passing
  ///   the same environment, since the learner carries its current
  ///   observations between calls.
  public func trainIteration(environment: any VectorizedEnvironment) -> PPOIterationMetrics {
    precondition(
      environment.observationSize == observationSize,
      "environment observations have \(environment.observationSize) features, the learner "
        + "expects \(observationSize)")
    precondition(
      environment.actionSpace == actionSpace,
      "environment action space \(environment.actionSpace) differs from the learner's \(actionSpace)"
    )
    precondition(environment.batchSize > 0, "environment batch size must be positive")

    var metrics = PPOIterationMetrics()
    let rollout = collectRollout(environment: environment, metrics: &metrics)
    metrics.advantageStandardDeviation = sampleStandardDeviation(rollout.advantages)
    let learningRate = currentLearningRate
    metrics.learningRate = Double(learningRate)
    update(rollout: rollout, learningRate: learningRate, metrics: &metrics)
    completedIterations += 1
    return metrics
  }
}
