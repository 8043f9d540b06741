import TitrateLinearAlgebra
import TitratePolicy
import TitrateRandom

#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

extension PPOLearner {
  /// Runs `updateEpochs` epochs of shuffled minibatch gradient steps on the
  /// PPO loss `policy - entropyCoefficient * entropy + valueCoefficient *
  /// value` (Huang et al. 2022, core detail 10).
  func update(rollout: PPORollout, learningRate: Float, metrics: inout PPOIterationMetrics) {
    let transitions = rollout.transitionCount
    let minibatchSize = min(configuration.minibatchSize, transitions)
    optimizer.learningRate = learningRate

    var order = Array(0..<transitions)
    var scratch = MinibatchScratch(parameterCount: actorCritic.parameterCount)
    var totals = LossTotals()
    for _ in 0..<configuration.updateEpochs {
      shuffle(&order)
      var start = 0
      while start < transitions {
        let end = min(start + minibatchSize, transitions)
        gather(rollout: rollout, indices: order[start..<end], into: &scratch)
        minibatchStep(scratch: &scratch, totals: &totals)
        start = end
      }
    }

    let count = Double(max(totals.minibatches, 1))
    metrics.policyLoss = totals.policyLoss / count
    metrics.valueLoss = totals.valueLoss / count
    metrics.entropy = totals.entropy / count
    metrics.approximateKL = totals.approximateKL / count
    metrics.clipFraction = totals.clipFraction / count
    metrics.gradientNorm = totals.gradientNorm / count
  }

  /// Fisher-Yates shuffle with the learner's generator. Written out rather
  /// than `shuffle(using:)`, whose draw sequence the standard library does
  /// not promise to keep across releases.
  private func shuffle(_ order: inout [Int]) {
    for index in stride(from: order.count - 1, to: 0, by: -1) {
      let other = min(Int(generator.nextUniform() * Double(index + 1)), index)
      order.swapAt(index, other)
    }
  }

  func gather(
    rollout: PPORollout, indices: ArraySlice<Int>, into scratch: inout MinibatchScratch,
    normalizeAdvantages: Bool? = nil
  ) {
    let rows = indices.count
    let features = observationSize
    scratch.observations.reshape(rows: rows, columns: features)
    scratch.actions.reshape(rows: rows, columns: 1)
    scratch.oldLogProbabilities.removeAll(keepingCapacity: true)
    scratch.advantages.removeAll(keepingCapacity: true)
    scratch.returns.removeAll(keepingCapacity: true)
    rollout.observations.withUnsafeBufferPointer { source in
      scratch.observations.values.withUnsafeMutableBufferPointer { target in
        for (row, index) in indices.enumerated() {
          for feature in 0..<features {
            target[row * features + feature] = source[index * features + feature]
          }
        }
      }
    }
    for (row, index) in indices.enumerated() {
      scratch.actions.values[row] = rollout.policyActions[index]
      scratch.oldLogProbabilities.append(rollout.logProbabilities[index])
      scratch.advantages.append(rollout.advantages[index])
      scratch.returns.append(rollout.returns[index])
    }
    if normalizeAdvantages ?? configuration.normalizeAdvantages, rows > 1 {
      standardize(&scratch.advantages)
    }
  }

  /// Takes one gradient step on a gathered minibatch.
  private func minibatchStep(scratch: inout MinibatchScratch, totals: inout LossTotals) {
    let norm = minibatchGradient(scratch: &scratch, totals: &totals)

    // Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_.
    let clipCoefficient = configuration.maxGradientNorm / (norm + 1e-6)
    if clipCoefficient < 1 { scale(&scratch.gradient, by: clipCoefficient) }

    // FedProx needs the current parameters as one vector; plain PPO steps
    // the network in place.
    if let proximalTerm {
      proximalTerm.addGradient(parameters: actorCritic.parameterVector(), to: &scratch.gradient)
    }
    actorCritic.applyAdamStep(&optimizer, gradient: scratch.gradient)
  }

  /// Computes the gradient of the mean PPO loss over a gathered minibatch
  /// into `scratch.gradient`, adds the loss terms to `totals` and returns
  /// the gradient's L2 norm.
  func minibatchGradient(scratch: inout MinibatchScratch, totals: inout LossTotals) -> Float {
    let rows = scratch.advantages.count
    let inverseRows = 1 / Float(rows)
    let clipRange = configuration.clipRange
    scratch.sizePerRowGradients(rows: rows)

    // Clipped surrogate: loss_i = max(-A r, -A clip(r, 1 - eps, 1 + eps)).
    // Its derivative with respect to log pi is -A r when the unclipped term
    // is the larger one (always so inside the clip range) and 0 otherwise.
    let (logProbabilities, entropies) = actorCritic.evaluatePolicy(
      observations: scratch.observations, policyActions: scratch.actions,
      trace: &scratch.policyTrace)
    var policyLoss = 0.0
    var approximateKL = 0.0
    var clipped = 0
    for row in 0..<rows {
      let logRatio = logProbabilities[row] - scratch.oldLogProbabilities[row]
      let ratio = expf(logRatio)
      let advantage = scratch.advantages[row]
      let unclippedLoss = -advantage * ratio
      let clippedLoss = -advantage * min(max(ratio, 1 - clipRange), 1 + clipRange)
      policyLoss += Double(max(unclippedLoss, clippedLoss))
      scratch.logProbabilityGradients[row] =
        unclippedLoss >= clippedLoss ? -advantage * ratio * inverseRows : 0
      approximateKL += Double((ratio - 1) - logRatio)
      if abs(ratio - 1) > clipRange { clipped += 1 }
    }
    let entropyGradient = -configuration.entropyCoefficient * inverseRows
    for row in 0..<rows { scratch.entropyGradients[row] = entropyGradient }

    // Value loss: valueCoefficient * 0.5 * mean((V - return)^2).
    let values = actorCritic.evaluateValues(
      observations: scratch.observations, trace: &scratch.valueTrace)
    var valueLoss = 0.0
    for row in 0..<rows {
      let error = values[row] - scratch.returns[row]
      valueLoss += 0.5 * Double(error * error)
      scratch.valueGradients[row] = configuration.valueCoefficient * error * inverseRows
    }

    actorCritic.backwardPolicy(
      trace: &scratch.policyTrace, logProbabilityGradients: scratch.logProbabilityGradients,
      entropyGradients: scratch.entropyGradients, gradient: &scratch.gradient)
    actorCritic.backwardValue(
      trace: &scratch.valueTrace, valueGradients: scratch.valueGradients,
      gradient: &scratch.gradient)

    let norm = dot(scratch.gradient, scratch.gradient).squareRoot()
    totals.minibatches += 1
    totals.policyLoss += policyLoss / Double(rows)
    totals.valueLoss += valueLoss / Double(rows)
    totals.entropy += entropies.reduce(0.0) { $0 + Double($1) } / Double(rows)
    totals.approximateKL += approximateKL / Double(rows)
    totals.clipFraction += Double(clipped) / Double(rows)
    totals.gradientNorm += Double(norm)
    return norm
  }
}

/// Returns the mean and the sample standard deviation (divisor n - 1) of
/// `values`, both accumulated in Double.
/// - Precondition: `values` has at least two elements.
func meanAndSampleStandardDeviation(_ values: [Float]) -> (mean: Double, deviation: Double) {
  precondition(values.count > 1, "a sample standard deviation needs two values")
  let count = Double(values.count)
  let mean = values.reduce(0.0) { $0 + Double($1) } / count
  let sumOfSquares = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
  return (mean, (sumOfSquares / (count - 1)).squareRoot())
}

/// Returns the sample standard deviation of `values`, or 0 for fewer than
/// two values.
func sampleStandardDeviation(_ values: [Float]) -> Double {
  values.count > 1 ? meanAndSampleStandardDeviation(values).deviation : 0
}

/// Subtracts the mean and divides by the sample standard deviation plus
/// 1e-8, as CleanRL does per minibatch.
/// - Precondition: `values` has at least two elements.
func standardize(_ values: inout [Float]) {
  let (mean, deviation) = meanAndSampleStandardDeviation(values)
  for index in values.indices {
    values[index] = Float((Double(values[index]) - mean) / (deviation + 1e-8))
  }
}

/// Buffers reused across the minibatches of one iteration.
struct MinibatchScratch {
  var observations = Matrix(rows: 0, columns: 0)
  var actions = Matrix(rows: 0, columns: 0)
  var oldLogProbabilities: [Float] = []
  var advantages: [Float] = []
  var returns: [Float] = []
  var logProbabilityGradients: [Float] = []
  var entropyGradients: [Float] = []
  var valueGradients: [Float] = []
  var gradient: [Float]
  var policyTrace = PolicyTrace()
  var valueTrace = MLPTrace()

  init(parameterCount: Int) {
    gradient = [Float](repeating: 0, count: parameterCount)
  }

  /// Sizes the per-row derivative buffers. Only the last, shorter
  /// minibatch of an epoch changes their length.
  mutating func sizePerRowGradients(rows: Int) {
    guard logProbabilityGradients.count != rows else { return }
    logProbabilityGradients = [Float](repeating: 0, count: rows)
    entropyGradients = [Float](repeating: 0, count: rows)
    valueGradients = [Float](repeating: 0, count: rows)
  }
}

/// Sums of per-minibatch means, divided by `minibatches` for the metrics.
struct LossTotals {
  var minibatches = 0
  var policyLoss = 0.0
  var valueLoss = 0.0
  var entropy = 0.0
  var approximateKL = 0.0
  var clipFraction = 0.0
  var gradientNorm = 0.0
}
