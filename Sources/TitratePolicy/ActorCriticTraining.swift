import TitrateEnvironments
import TitrateLinearAlgebra

/// Activations and buffers that `ActorCritic.evaluatePolicy` keeps for
/// the backward pass.
public struct PolicyTrace: Sendable {
  var network = MLPTrace()
  /// Log-softmax, probabilities and entropies of the logits (discrete
  /// actions only), shared by the forward and the backward pass.
  var categorical = CategoricalHead.RowStatistics()
  var actions = Matrix(rows: 0, columns: 0)
  var outputGradient = Matrix(rows: 0, columns: 0)
  var logStdGradient: [Float] = []

  /// Creates an empty trace; the first evaluation sizes it.
  public init() {}
}

extension ActorCritic {
  /// Evaluates log pi(action | observation) and the entropy for a
  /// minibatch and records what `backwardPolicy` needs.
  ///
  /// - Parameters:
  ///   - observations: `batch x observationSize`, already normalised.
  ///   - policyActions: `batch x 1`, as in `PolicySample.policyActions`.
  public func evaluatePolicy(
    observations: Matrix, policyActions: Matrix, trace: inout PolicyTrace
  ) -> (logProbabilities: [Float], entropies: [Float]) {
    precondition(policyActions.rows == observations.rows, "one action per observation is needed")
    policy.forward(observations, trace: &trace.network)
    trace.actions = policyActions
    let outputs = trace.network.output
    switch actionSpace {
    case .discrete:
      trace.categorical.compute(logits: outputs)
      return (
        trace.categorical.logProbabilities(actions: policyActions.values),
        trace.categorical.entropies
      )
    case .continuous:
      let head = gaussianHead!
      return (
        head.logProbabilities(means: outputs, actions: policyActions),
        [Float](repeating: head.entropy, count: outputs.rows)
      )
    }
  }

  /// Writes dLoss/dParameters of the policy part (policy MLP and `log_std`)
  /// into `gradient[0 ..< policyParameterCount]`, overwriting it, for a loss
  /// with the given per-row derivatives with respect to the log-probability
  /// and the entropy of the batch last passed to `evaluatePolicy`.
  public func backwardPolicy(
    trace: inout PolicyTrace, logProbabilityGradients: [Float], entropyGradients: [Float],
    gradient: inout [Float]
  ) {
    precondition(gradient.count == parameterCount, "gradient needs \(parameterCount) slots")
    let outputs = trace.network.output
    switch actionSpace {
    case .discrete:
      CategoricalHead.logitsGradient(
        statistics: trace.categorical, actions: trace.actions.values,
        logProbabilityGradients: logProbabilityGradients, entropyGradients: entropyGradients,
        into: &trace.outputGradient)
    case .continuous:
      gaussianHead!.gradients(
        means: outputs, actions: trace.actions, logProbabilityGradients: logProbabilityGradients,
        entropyGradients: entropyGradients, meanGradient: &trace.outputGradient,
        logStdGradient: &trace.logStdGradient)
      for (index, value) in trace.logStdGradient.enumerated() {
        gradient[policy.parameterCount + index] = value
      }
    }
    policy.backward(
      trace: &trace.network, outputGradient: trace.outputGradient, gradient: &gradient, offset: 0)
  }

  /// Evaluates the value network on a minibatch (`batch x observationSize`,
  /// already normalised), recording what `backwardValue` needs.
  public func evaluateValues(observations: Matrix, trace: inout MLPTrace) -> [Float] {
    value.forward(observations, trace: &trace)
    return trace.output.values
  }

  /// Writes dLoss/dParameters of the value MLP into its slice of
  /// `gradient` (after `policyParameterCount`), overwriting it, given
  /// dLoss/dValue per row of the batch last passed to `evaluateValues`.
  public func backwardValue(trace: inout MLPTrace, valueGradients: [Float], gradient: inout [Float]) {
    precondition(gradient.count == parameterCount, "gradient needs \(parameterCount) slots")
    let outputGradient = Matrix(rows: valueGradients.count, columns: 1, values: valueGradients)
    value.backward(
      trace: &trace, outputGradient: outputGradient, gradient: &gradient,
      offset: policyParameterCount)
  }
}
