import TitrateEnvironments
import TitrateLinearAlgebra

/// The result of `PPOLearner.estimateGradient`: the gradient of the PPO loss
/// at the current parameters over one rollout, and the rollout's metrics.
public struct PPOGradientEstimate: Sendable {
  /// Gradient of the mean loss in `ActorCritic` flat parameter order,
  /// clipped to `maxGradientNorm` in L2 norm.
  public var gradient: [Float]
  /// L2 norm before clipping.
  public var unclippedNorm: Double
  /// Rollout and loss measurements (loss terms are at the current
  /// parameters, where the probability ratio is 1).
  public var metrics: PPOIterationMetrics
}

extension PPOLearner {
  /// Collects one rollout and returns the gradient of the PPO loss over all
  /// of it at the current parameters, without changing them. Federated SGD
  /// sites send this instead of a model delta (McMahan et al. 2017,
  /// "Communication-Efficient Learning of Deep Networks from Decentralized
  /// Data", FedSGD).
  ///
  /// At the parameters that collected the rollout every probability ratio
  /// is 1, so the clipped surrogate's gradient is the policy gradient
  /// `-mean(A grad log pi)`. Advantages are standardised over the whole
  /// rollout (when `normalizeAdvantages` is set), the transitions are
  /// processed in chunks of `minibatchSize` in order, and the gradient is
  /// clipped to `maxGradientNorm`. Counts as one iteration for annealing.
  public func estimateGradient(environment: any VectorizedEnvironment) -> PPOGradientEstimate {
    precondition(
      environment.observationSize == observationSize,
      "environment observations have \(environment.observationSize) features, the learner "
        + "expects \(observationSize)")
    var metrics = PPOIterationMetrics()
    var rollout = collectRollout(environment: environment, metrics: &metrics)
    metrics.advantageStandardDeviation = sampleStandardDeviation(rollout.advantages)
    if configuration.normalizeAdvantages, rollout.transitionCount > 1 {
      standardize(&rollout.advantages)
    }

    let transitions = rollout.transitionCount
    let chunkSize = min(configuration.minibatchSize, transitions)
    var scratch = MinibatchScratch(parameterCount: actorCritic.parameterCount)
    var totals = LossTotals()
    var sum = [Float](repeating: 0, count: actorCritic.parameterCount)
    let order = Array(0..<transitions)
    var start = 0
    while start < transitions {
      let end = min(start + chunkSize, transitions)
      gather(
        rollout: rollout, indices: order[start..<end], into: &scratch, normalizeAdvantages: false)
      _ = minibatchGradient(scratch: &scratch, totals: &totals)
      // Each chunk gradient is a mean over its rows, so it is weighted by its row count.
      let weight = Float(end - start) / Float(transitions)
      for index in sum.indices { sum[index] += weight * scratch.gradient[index] }
      start = end
    }

    let norm = dot(sum, sum).squareRoot()
    let clipCoefficient = configuration.maxGradientNorm / (norm + 1e-6)
    if clipCoefficient < 1 { scale(&sum, by: clipCoefficient) }

    let count = Double(max(totals.minibatches, 1))
    metrics.policyLoss = totals.policyLoss / count
    metrics.valueLoss = totals.valueLoss / count
    metrics.entropy = totals.entropy / count
    metrics.gradientNorm = Double(norm)
    metrics.learningRate = Double(currentLearningRate)
    completedIterations += 1
    return PPOGradientEstimate(gradient: sum, unclippedNorm: Double(norm), metrics: metrics)
  }
}
