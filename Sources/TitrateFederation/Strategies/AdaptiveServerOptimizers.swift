#if canImport(Glibc)
  import Glibc
#endif

/// The adaptive server optimisers of Reddi et al., "Adaptive Federated
/// Optimization", ICLR 2021 (Algorithm 2). They differ only in how the
/// second moment v follows the squared pseudo-gradient.
public enum AdaptiveServerOptimizer: String, Codable, Sendable, Equatable, CaseIterable {
  /// v <- v + delta^2.
  case adagrad
  /// v <- beta2 * v + (1 - beta2) * delta^2.
  case adam
  /// v <- v - (1 - beta2) * delta^2 * sign(v - delta^2).
  case yogi
}

/// Settings shared by FedAdagrad, FedAdam and FedYogi.
///
/// Defaults: beta1 = 0.9 and beta2 = 0.99 as in the experiments of Reddi et
/// al. 2021, and eta = 0.1 and tau = 1e-3 as in Flower 1.28's FedOpt
/// strategies. NOTE: Reddi et al. tune eta and tau per task; these
/// defaults are untested on dosing policies.
public struct AdaptiveServerConfiguration: Codable, Sendable, Equatable {
  /// Server learning rate eta, in (0, inf).
  public var learningRate: Double = 0.1
  /// Decay of the first moment beta1, in [0, 1).
  public var beta1: Double = 0.9
  /// Decay of the second moment beta2, in [0, 1); FedAdagrad ignores it.
  public var beta2: Double = 0.99
  /// Adaptivity tau, in (0, inf): added to sqrt(v) in the denominator.
  /// Larger values make the step closer to plain momentum SGD.
  public var tau: Double = 1e-3

  /// Creates the settings; see the type's summary for the defaults' sources.
  public init(
    learningRate: Double = 0.1, beta1: Double = 0.9, beta2: Double = 0.99, tau: Double = 1e-3
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.tau = tau
  }

  /// Lists every setting outside its range.
  func problems() -> [StrategyProblem] {
    var found: [StrategyProblem] = []
    if !(learningRate > 0 && learningRate.isFinite) {
      found.append(
        .parameterOutOfRange(name: "server learning rate", value: learningRate, allowed: "(0, inf)")
      )
    }
    if !(0..<1).contains(beta1) {
      found.append(.parameterOutOfRange(name: "server beta1", value: beta1, allowed: "[0, 1)"))
    }
    if !(0..<1).contains(beta2) {
      found.append(.parameterOutOfRange(name: "server beta2", value: beta2, allowed: "[0, 1)"))
    }
    if !(tau > 0 && tau.isFinite) {
      found.append(.parameterOutOfRange(name: "server tau", value: tau, allowed: "(0, inf)"))
    }
    return found
  }
}

/// Computes one FedAdagrad, FedAdam or FedYogi server step from the
/// pseudo-gradient, the averaged delta of this round.
///
/// m <- beta1 * m + (1 - beta1) * delta, then v by the optimiser's rule,
/// and the step is eta * m_hat / (sqrt(v_hat) + tau).
///
/// Both moments start at zero, so they are bias-corrected as in Adam
/// (Kingma and Ba 2015). With t the server step counting from 1, m is
/// divided by 1 - beta1^t for all three optimisers. v is divided by
/// 1 - beta2^t for Adam and Yogi. FedAdagrad's v is a plain sum and needs
/// no correction.
/// NOTE: Reddi et al.'s Algorithm 2 has no bias correction and starts v
/// at tau^2 or more. Flower 1.28 corrects FedAdam only. Yogi's v is no
/// exponential average, so its correction is exact only in round 1.
/// - Returns: the vector to add to the global parameters.
public func adaptiveServerStep(
  pseudoGradient: [Double], optimizer: AdaptiveServerOptimizer,
  configuration: AdaptiveServerConfiguration, state: inout StrategyState
) throws(StrategyRoundError) -> [Double] {
  try StrategyState.prepare(&state.firstMoment, count: pseudoGradient.count)
  try StrategyState.prepare(&state.secondMoment, count: pseudoGradient.count)
  let beta1 = configuration.beta1
  let beta2 = configuration.beta2
  let serverStep = Double(state.roundsApplied + 1)
  let firstCorrection = 1 - pow(beta1, serverStep)
  let secondCorrection = optimizer == .adagrad ? 1 : 1 - pow(beta2, serverStep)

  var step = [Double](repeating: 0, count: pseudoGradient.count)
  for index in step.indices {
    let gradient = pseudoGradient[index]
    let squared = gradient * gradient
    let first = beta1 * state.firstMoment[index] + (1 - beta1) * gradient
    var second = state.secondMoment[index]
    switch optimizer {
    case .adagrad:
      second += squared
    case .adam:
      second = beta2 * second + (1 - beta2) * squared
    case .yogi:
      second -= (1 - beta2) * squared * signum(second - squared)
    }
    state.firstMoment[index] = first
    state.secondMoment[index] = second
    let firstEstimate = first / firstCorrection
    let secondEstimate = second / secondCorrection
    step[index] =
      configuration.learningRate * firstEstimate / (secondEstimate.squareRoot() + configuration.tau)
  }
  state.roundsApplied += 1
  return step
}

/// Sign of x as -1, 0 or 1 (numpy's `sign`), so that Yogi leaves v alone
/// when v equals delta^2.
private func signum(_ x: Double) -> Double {
  x > 0 ? 1 : (x < 0 ? -1 : 0)
}
