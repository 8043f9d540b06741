import TitratePolicy
import TitrateRandom

/// Everything a `PPOLearner` needs to continue bit for bit: parameters,
/// optimiser and normaliser statistics, generator, iteration count and
/// the rollout carried over between iterations.
///
/// The environment's own state is not included; resuming identically also
/// needs an environment in the state it had when this was taken.
public struct PPOLearnerState: Sendable, Equatable, Codable {
  /// `ActorCritic.parameterVector()`.
  public var parameters: [Float]
  /// Adam moments and step count.
  public var optimizer: AdamState
  /// Observation statistics.
  public var normalizer: RunningNormalizer.State
  /// The four words of the learner's `Xoshiro256`.
  public var generator: [UInt64]
  /// Completed `trainIteration` calls, which set the annealed step size.
  public var completedIterations: Int
  /// Raw observations to act on next (`batch x observationSize`); nil
  /// makes the next iteration reset the environment.
  public var currentObservations: [Float]?
  /// Undiscounted return so far of each environment's running episode;
  /// empty when `currentObservations` is nil.
  public var runningReturns: [Double]
  /// Safety cost so far of each running episode; same length as
  /// `runningReturns`.
  public var runningCosts: [Double]
  /// The Lagrange multiplier on the safety cost.
  public var costMultiplier: Float

  /// Creates a state from stored parts.
  public init(
    parameters: [Float], optimizer: AdamState, normalizer: RunningNormalizer.State,
    generator: [UInt64], completedIterations: Int, currentObservations: [Float]?,
    runningReturns: [Double], runningCosts: [Double]? = nil, costMultiplier: Float = 0
  ) {
    self.parameters = parameters
    self.optimizer = optimizer
    self.normalizer = normalizer
    self.generator = generator
    self.completedIterations = completedIterations
    self.currentObservations = currentObservations
    self.runningReturns = runningReturns
    self.runningCosts = runningCosts ?? [Double](repeating: 0, count: runningReturns.count)
    self.costMultiplier = costMultiplier
  }
}

/// Raised when a stored learner state does not fit the learner.
public struct PPOLearnerStateError: Error, Equatable, CustomStringConvertible {
  /// Description of the mismatch, with stored and expected values.
  public var reason: String

  public var description: String {
    "cannot restore PPO learner state: \(reason); restore into a learner built with the "
      + "same observation size, action space and hidden sizes"
  }
}

extension PPOLearner {
  /// Returns a snapshot from which `restore(_:)` continues identically.
  public func state() -> PPOLearnerState {
    PPOLearnerState(
      parameters: actorCritic.parameterVector(), optimizer: optimizer.state,
      normalizer: normalizer.state, generator: generator.state,
      completedIterations: completedIterations, currentObservations: currentObservations,
      runningReturns: runningReturns, runningCosts: runningCosts, costMultiplier: costMultiplier)
  }

  /// Replaces the learner's state with a snapshot from `state()`.
  /// - Throws: `PPOLearnerStateError` when a part has the wrong size or the
  ///   generator state is invalid; the learner is then unchanged.
  public func restore(_ stored: PPOLearnerState) throws(PPOLearnerStateError) {
    let parameterCount = actorCritic.parameterCount
    func check(_ condition: Bool, _ reason: @autoclosure () -> String) throws(PPOLearnerStateError) {
      if !condition { throw PPOLearnerStateError(reason: reason()) }
    }
    try check(
      stored.parameters.count == parameterCount,
      "\(stored.parameters.count) parameters stored, \(parameterCount) expected")
    try check(
      stored.optimizer.firstMoment.count == parameterCount
        && stored.optimizer.secondMoment.count == parameterCount && stored.optimizer.step >= 0,
      "Adam moments of \(stored.optimizer.firstMoment.count) and "
        + "\(stored.optimizer.secondMoment.count) values stored, \(parameterCount) expected")
    try check(
      stored.normalizer.mean.count == observationSize
        && stored.normalizer.variance.count == observationSize && stored.normalizer.count >= 0,
      "normalizer of \(stored.normalizer.mean.count) features stored, \(observationSize) expected")
    try check(
      stored.generator.count == 4 && stored.generator.contains { $0 != 0 },
      "generator state \(stored.generator) is not four words with one non-zero")
    try check(
      stored.completedIterations >= 0,
      "completed iteration count \(stored.completedIterations) is negative")
    if let observations = stored.currentObservations {
      try check(
        !observations.isEmpty && observations.count % observationSize == 0
          && stored.runningReturns.count == observations.count / observationSize,
        "\(observations.count) carried observation values and \(stored.runningReturns.count) "
          + "running returns do not form whole rows of \(observationSize) features")
    }
    try check(
      stored.runningCosts.count == stored.runningReturns.count,
      "\(stored.runningCosts.count) running costs stored for \(stored.runningReturns.count) "
        + "running returns; they must match")
    try check(
      stored.costMultiplier >= 0 && stored.costMultiplier.isFinite,
      "cost multiplier \(stored.costMultiplier) is not a finite value >= 0")

    actorCritic.setParameterVector(stored.parameters)
    optimizer.restore(stored.optimizer)
    normalizer.restore(stored.normalizer)
    generator = Xoshiro256(state: stored.generator)
    completedIterations = stored.completedIterations
    currentObservations = stored.currentObservations
    runningReturns = stored.currentObservations == nil ? [] : stored.runningReturns
    runningCosts = stored.currentObservations == nil ? [] : stored.runningCosts
    costMultiplier = stored.costMultiplier
  }
}
