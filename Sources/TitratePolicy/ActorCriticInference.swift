import TitrateEnvironments
import TitrateLinearAlgebra
import TitrateRandom

/// Actions drawn for a batch, in the forms a learner stores.
public struct PolicySample: Sendable {
  /// `batch x 1`: the level index (discrete) or the unclipped Gaussian
  /// sample in policy units (continuous). Log-probabilities refer to these.
  public var policyActions: Matrix
  /// The actions to pass to `VectorizedEnvironment.step`, one per row.
  public var environmentActions: [Float]
  /// log pi(policy action | observation), one per row.
  public var logProbabilities: [Float]
}

extension ActorCritic {
  /// Returns the policy outputs for row-major `count x observationSize`
  /// observations: `count x actionCount` logits (discrete) or `count x 1`
  /// means in policy units (continuous).
  public func policyOutputs(observations: [Float], count: Int) -> Matrix {
    policy.forward(observationMatrix(observations, count: count))
  }

  /// Returns the state value of each of `count` row-major observations.
  public func values(observations: [Float], count: Int) -> [Float] {
    value.forward(observationMatrix(observations, count: count)).values
  }

  /// Returns one environment action per observation.
  ///
  /// - Parameters:
  ///   - deterministic: true picks the most likely level (discrete) or the
  ///     mean (continuous) and draws nothing from `generator`.
  public func actions(
    observations: [Float], count: Int, deterministic: Bool, generator: inout Xoshiro256
  ) -> [Float] {
    let outputs = policyOutputs(observations: observations, count: count)
    switch actionSpace {
    case .discrete:
      return deterministic
        ? CategoricalHead.mostLikely(logits: outputs)
        : CategoricalHead.sample(logits: outputs, generator: &generator)
    case .continuous:
      let policyActions = deterministic ? outputs : gaussianHead!.sample(means: outputs, generator: &generator)
      return environmentActions(fromPolicyActions: policyActions)
    }
  }

  /// Samples one action per row of `observations` (`batch x
  /// observationSize`, already normalised) and returns it with its
  /// log-probability.
  public func sample(observations: Matrix, generator: inout Xoshiro256) -> PolicySample {
    let outputs = policy.forward(observations)
    switch actionSpace {
    case .discrete:
      let levels = CategoricalHead.sample(logits: outputs, generator: &generator)
      return PolicySample(
        policyActions: Matrix(rows: levels.count, columns: 1, values: levels),
        environmentActions: levels,
        logProbabilities: CategoricalHead.logProbabilities(logits: outputs, actions: levels))
    case .continuous:
      let head = gaussianHead!
      let policyActions = head.sample(means: outputs, generator: &generator)
      return PolicySample(
        policyActions: policyActions,
        environmentActions: environmentActions(fromPolicyActions: policyActions),
        logProbabilities: head.logProbabilities(means: outputs, actions: policyActions))
    }
  }

  /// Maps policy actions (`batch x 1`) to environment actions: level
  /// indices pass through, and a continuous `u` becomes
  /// `low + (u + 1) / 2 * (high - low)`, clipped to `[low, high]`.
  public func environmentActions(fromPolicyActions policyActions: Matrix) -> [Float] {
    switch actionSpace {
    case .discrete:
      return policyActions.values
    case .continuous(let low, let high):
      // Clipped only on the way to the environment, because the stored
      // sample stays unclipped. The environment then never receives an
      // action outside its declared space, and NaN passes through for the
      // actuator to reject.
      let halfWidth = (high - low) / 2
      return policyActions.values.map { value in
        let action = low + (value + 1) * halfWidth
        return action.isNaN ? action : min(max(action, low), high)
      }
    }
  }

  func observationMatrix(_ observations: [Float], count: Int) -> Matrix {
    precondition(
      observations.count == count * observationSize,
      "\(observations.count) values are not \(count) observations of \(observationSize) features")
    return Matrix(rows: count, columns: observationSize, values: observations)
  }
}
