/// Settings of FedAvgM, FedAvg with server momentum (Hsu, Qi and Brown,
/// "Measuring the Effects of Non-Identical Data Distribution for Federated
/// Visual Classification", 2019).
public struct ServerMomentumConfiguration: Codable, Sendable, Equatable {
  /// Server learning rate eta, in (0, inf). With momentum 0 and eta 1 the
  /// strategy is plain FedAvg.
  public var learningRate: Double = 1
  /// Momentum beta, in [0, 1). NOTE: 0.9 is the usual heavy-ball value, not
  /// a value tuned for dosing policies.
  public var momentum: Double = 0.9

  /// Creates the settings; the defaults are eta = 1, beta = 0.9.
  public init(learningRate: Double = 1, momentum: Double = 0.9) {
    self.learningRate = learningRate
    self.momentum = momentum
  }

  /// Lists every setting outside its range.
  func problems() -> [StrategyProblem] {
    var found: [StrategyProblem] = []
    if !(learningRate > 0 && learningRate.isFinite) {
      found.append(
        .parameterOutOfRange(name: "server learning rate", value: learningRate, allowed: "(0, inf)")
      )
    }
    if !(0..<1).contains(momentum) {
      found.append(
        .parameterOutOfRange(name: "server momentum", value: momentum, allowed: "[0, 1)"))
    }
    return found
  }
}

/// Computes one FedAvgM server step from the averaged delta.
///
/// velocity <- beta * velocity + averageDelta, and the returned step is
/// eta * velocity. The velocity starts at zero, so the first step is
/// eta * averageDelta. (Hsu et al. write the pseudo-gradient as
/// global - average, which flips both signs and gives the same step.)
/// - Returns: the vector to add to the global parameters.
public func serverMomentumStep(
  averageDelta: [Double], configuration: ServerMomentumConfiguration, state: inout StrategyState
) throws(StrategyRoundError) -> [Double] {
  try StrategyState.prepare(&state.firstMoment, count: averageDelta.count)
  var step = [Double](repeating: 0, count: averageDelta.count)
  for index in step.indices {
    let velocity = configuration.momentum * state.firstMoment[index] + averageDelta[index]
    state.firstMoment[index] = velocity
    step[index] = configuration.learningRate * velocity
  }
  state.roundsApplied += 1
  return step
}
