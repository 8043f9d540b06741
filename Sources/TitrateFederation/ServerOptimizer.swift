#if canImport(Glibc)
  import Glibc
#endif

/// Server optimiser: the rule that turns the averaged delta into the next
/// global model.
public enum ServerOptimizerConfiguration: Codable, Sendable, Equatable {
  /// x <- x + learningRate * delta. With learning rate 1 this is plain
  /// FedAvg: the new global model is the weighted mean of the local models.
  case sgd(learningRate: Double)
  /// FedAdam (Reddi et al., "Adaptive Federated Optimization", ICLR 2021)
  /// with bias correction: the averaged delta is the pseudo-gradient.
  case adam(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double)

  /// Lists every invalid setting, empty when valid.
  public func problems() -> [String] {
    switch self {
    case .sgd(let learningRate):
      return learningRate > 0 && learningRate.isFinite
        ? [] : ["server learning rate \(learningRate) must be positive and finite"]
    case .adam(let learningRate, let beta1, let beta2, let epsilon):
      var found: [String] = []
      if !(learningRate > 0 && learningRate.isFinite) {
        found.append("server learning rate \(learningRate) must be positive and finite")
      }
      if !(0..<1).contains(beta1) { found.append("server beta1 \(beta1) must be in [0, 1)") }
      if !(0..<1).contains(beta2) { found.append("server beta2 \(beta2) must be in [0, 1)") }
      if !(epsilon > 0 && epsilon.isFinite) {
        found.append("server epsilon \(epsilon) must be positive and finite")
      }
      return found
    }
  }
}

/// Server optimiser state: moments for Adam and the step count. Stored in
/// checkpoints so that a resumed run continues identically.
public struct ServerOptimizerState: Sendable, Equatable {
  /// Server steps taken (rounds applied).
  public var step: Int
  /// Adam first moment per parameter (zeros for SGD).
  public var firstMoment: [Double]
  /// Adam second moment per parameter (zeros for SGD).
  public var secondMoment: [Double]

  /// Creates the state before the first round: step 0, zero moments.
  public init(parameterCount: Int) {
    step = 0
    firstMoment = [Double](repeating: 0, count: parameterCount)
    secondMoment = [Double](repeating: 0, count: parameterCount)
  }

  /// Restores a stored state.
  public init(step: Int, firstMoment: [Double], secondMoment: [Double]) {
    self.step = step
    self.firstMoment = firstMoment
    self.secondMoment = secondMoment
  }
}

/// Applies one server step to the global parameters in place.
///
/// The arithmetic runs in `Double` and rounds to `Float` once, so that with
/// SGD at learning rate 1 and a single site the new global model equals that
/// site's local model exactly.
public func applyServerStep(
  _ configuration: ServerOptimizerConfiguration, state: inout ServerOptimizerState,
  averageDelta: [Double], parameters: inout [Float]
) {
  precondition(averageDelta.count == parameters.count, "delta and parameter counts differ")
  state.step += 1
  switch configuration {
  case .sgd(let learningRate):
    for index in parameters.indices {
      let next = Double(parameters[index]) + learningRate * averageDelta[index]
      parameters[index] = Float(next)
    }
  case .adam(let learningRate, let beta1, let beta2, let epsilon):
    let step = Double(state.step)
    let firstCorrection = 1 - pow(beta1, step)
    let secondCorrection = 1 - pow(beta2, step)
    for index in parameters.indices {
      let gradient = averageDelta[index]
      state.firstMoment[index] = beta1 * state.firstMoment[index] + (1 - beta1) * gradient
      state.secondMoment[index] =
        beta2 * state.secondMoment[index] + (1 - beta2) * gradient * gradient
      let firstEstimate = state.firstMoment[index] / firstCorrection
      let secondEstimate = state.secondMoment[index] / secondCorrection
      let next =
        Double(parameters[index]) + learningRate * firstEstimate
        / (secondEstimate.squareRoot() + epsilon)
      parameters[index] = Float(next)
    }
  }
}
