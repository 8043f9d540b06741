import TitrateEnvironments
import TitrateLinearAlgebra
import TitrateRandom

/// Separate policy and value networks with the action head that matches an
/// environment's action space (PPO for continuous control, Huang et al.
/// 2022: separate 64-64 tanh MLPs, orthogonal initialisation).
///
/// - `.discrete(count:)`: the policy outputs `count` logits of a
///   categorical distribution, and actions are level indices.
/// - `.continuous(low:high:)`: the policy outputs the mean of a Gaussian in
///   policy units, with a learned state-independent `log_std`. A policy
///   action `u` maps to the environment as `low + (u + 1) / 2 * (high - low)`,
///   so `u` in [-1, 1] covers the range. The sample is not clipped; the
///   environment's actuator clamps and counts out-of-range actions.
///
/// Flat parameter order (`parameterVector`, gradients, Adam): the policy
/// MLP, then `log_std` (continuous only), then the value MLP, each MLP
/// layer by layer as weight (row-major `out x in`) then bias.
public struct ActorCritic: Sendable, Equatable {
  /// Features per observation, positive.
  public let observationSize: Int
  /// The environment's action space.
  public let actionSpace: ActionSpace
  /// Widths of the tanh hidden layers of both networks.
  public let hiddenSizes: [Int]
  /// Maps observations to logits (discrete) or means (continuous).
  public var policy: MLP
  /// Maps observations to one state value each.
  public var value: MLP
  /// The Gaussian head for continuous actions; nil for discrete ones.
  public var gaussianHead: GaussianHead?
  /// Keeps the greedy dose monotone in chosen inputs; nil when none are
  /// constrained. The policy weights satisfy it after every initialisation
  /// and optimiser step.
  public let monotoneConstraint: MonotoneConstraint?

  /// Creates a freshly initialised network: orthogonal weights with gain
  /// sqrt(2) on hidden layers, 0.01 on the policy output and 1 on the value
  /// output, zero biases, and `log_std` 0.
  /// With a `monotoneConstraint`, the policy weights are then projected
  /// onto it.
  /// - Precondition: `observationSize > 0`, positive hidden sizes, at least
  ///   one discrete level, and `low < high` for continuous actions.
  public init(
    observationSize: Int, actionSpace: ActionSpace, hiddenSizes: [Int] = [64, 64],
    monotoneConstraint: MonotoneConstraint? = nil, generator: inout Xoshiro256
  ) {
    if let problem = Self.architectureProblem(observationSize, actionSpace, hiddenSizes) {
      preconditionFailure(problem)
    }
    self.observationSize = observationSize
    self.actionSpace = actionSpace
    self.hiddenSizes = hiddenSizes
    policy = MLP(
      inputSize: observationSize, hiddenSizes: hiddenSizes,
      outputSize: Self.policyOutputSize(actionSpace), outputGain: 0.01, generator: &generator)
    value = MLP(
      inputSize: observationSize, hiddenSizes: hiddenSizes, outputSize: 1, outputGain: 1,
      generator: &generator)
    if case .continuous = actionSpace {
      gaussianHead = GaussianHead(logStd: [0])
    }
    self.monotoneConstraint = monotoneConstraint
    monotoneConstraint?.project(&policy)
  }

  /// Projects the policy weights onto `monotoneConstraint`; does nothing
  /// without one.
  public mutating func projectOntoMonotoneConstraint() {
    monotoneConstraint?.project(&policy)
  }

  /// Rebuilds a network from tensors named as `namedTensors()` names them.
  /// - Throws: `ActorCriticError` naming the missing, extra or misshapen
  ///   tensor, the invalid architecture, or the first weight that breaks
  ///   `monotoneConstraint` (weights are checked, never moved).
  public init(
    observationSize: Int, actionSpace: ActionSpace, hiddenSizes: [Int],
    monotoneConstraint: MonotoneConstraint? = nil, tensors: [NamedTensor]
  ) throws(ActorCriticError) {
    if let problem = Self.architectureProblem(observationSize, actionSpace, hiddenSizes) {
      throw .invalidArchitecture(problem)
    }
    var generator = Xoshiro256(seed: 0)
    var network = ActorCritic(
      observationSize: observationSize, actionSpace: actionSpace, hiddenSizes: hiddenSizes,
      monotoneConstraint: monotoneConstraint, generator: &generator)
    var byName = [String: NamedTensor]()
    for tensor in tensors {
      byName[tensor.name] = tensor
    }
    var expectedNames = Set<String>()
    for template in network.namedTensors() {
      expectedNames.insert(template.name)
      guard let tensor = byName[template.name] else {
        throw .missingTensor(name: template.name)
      }
      guard tensor.shape == template.shape else {
        throw .shapeMismatch(name: tensor.name, expected: template.shape, found: tensor.shape)
      }
    }
    if let extra = tensors.first(where: { !expectedNames.contains($0.name) }) {
      throw .unexpectedTensor(name: extra.name)
    }
    // Same order as namedTensors(), which is the flat parameter order.
    let vector = network.namedTensors().flatMap { byName[$0.name]!.values }
    network.setParameterVector(vector)
    if let problem = monotoneConstraint?.violation(in: network.policy) {
      throw .monotoneConstraintBroken(problem)
    }
    self = network
  }

  /// Outputs of the policy network per observation: `actionCount` logits or
  /// one mean (policy units).
  public static func policyOutputSize(_ actionSpace: ActionSpace) -> Int {
    switch actionSpace {
    case .discrete(let count): return count
    case .continuous: return 1
    }
  }

  private static func architectureProblem(
    _ observationSize: Int, _ actionSpace: ActionSpace, _ hiddenSizes: [Int]
  ) -> String? {
    if observationSize <= 0 {
      return "observation size \(observationSize) must be positive"
    }
    if let width = hiddenSizes.first(where: { $0 <= 0 }) {
      return "hidden size \(width) in \(hiddenSizes) must be positive"
    }
    switch actionSpace {
    case .discrete(let count) where count < 1:
      return "discrete action count \(count) must be at least 1"
    case .continuous(let low, let high) where !(low < high) || !low.isFinite || !high.isFinite:
      return "continuous action range [\(low), \(high)] must be finite with low < high"
    default:
      return nil
    }
  }

  // MARK: Parameters

  /// Number of parameters of the policy MLP plus `log_std`, which lead the
  /// flat order.
  public var policyParameterCount: Int { policy.parameterCount + (gaussianHead?.actionDimension ?? 0) }

  /// Number of parameters in the flat vector.
  public var parameterCount: Int { policyParameterCount + value.parameterCount }

  /// Returns every parameter in the flat order described on the type.
  public func parameterVector() -> [Float] {
    var vector = [Float]()
    vector.reserveCapacity(parameterCount)
    policy.appendParameters(to: &vector)
    if let head = gaussianHead { vector.append(contentsOf: head.logStd) }
    value.appendParameters(to: &vector)
    return vector
  }

  /// Takes one Adam step on every parameter in place, with `gradient` in
  /// the flat order, then projects onto `monotoneConstraint` when there is
  /// one. Without a constraint it gives the same values, bit for bit, as
  /// reading the parameter vector, calling `Adam.update` and writing it
  /// back, without the two copies.
  /// - Precondition: `gradient.count == parameterCount` and the optimiser
  ///   has `parameterCount` moments.
  public mutating func applyAdamStep(_ optimizer: inout Adam, gradient: [Float]) {
    precondition(
      gradient.count == parameterCount,
      "gradient has \(gradient.count) values, the network has \(parameterCount)")
    let coefficients = optimizer.beginUpdate()
    gradient.withUnsafeBufferPointer { gradientBuffer in
      let g = gradientBuffer.baseAddress!
      var offset = 0
      func step(_ values: inout [Float]) {
        let count = values.count
        values.withUnsafeMutableBufferPointer { buffer in
          optimizer.applySegment(
            parameters: buffer.baseAddress!, offset: offset, count: count, gradient: g,
            coefficients: coefficients)
        }
        offset += count
      }
      for index in policy.layers.indices {
        step(&policy.layers[index].weight.values)
        step(&policy.layers[index].bias)
      }
      if gaussianHead != nil { step(&gaussianHead!.logStd) }
      for index in value.layers.indices {
        step(&value.layers[index].weight.values)
        step(&value.layers[index].bias)
      }
    }
    projectOntoMonotoneConstraint()
  }

  /// Replaces every parameter from a vector in the flat order.
  /// - Precondition: `vector.count == parameterCount`.
  public mutating func setParameterVector(_ vector: [Float]) {
    precondition(
      vector.count == parameterCount,
      "parameter vector has \(vector.count) values, the network needs \(parameterCount)")
    var offset = policy.setParameters(from: vector, offset: 0)
    if let dimension = gaussianHead?.actionDimension {
      gaussianHead!.logStd = Array(vector[offset..<(offset + dimension)])
      offset += dimension
    }
    value.setParameters(from: vector, offset: offset)
  }

  /// Returns the parameters as named tensors in flat order:
  /// `policy/layer_<i>/weight` (shape `[out, in]`, so a hidden layer is
  /// `tanh(x @ W.T + b)` in numpy), `policy/layer_<i>/bias` (`[out]`),
  /// `policy/log_std` (`[1]`, continuous only), then `value/layer_<i>/...`.
  public func namedTensors() -> [NamedTensor] {
    var tensors = Self.tensors(of: policy, prefix: "policy")
    if let head = gaussianHead {
      tensors.append(NamedTensor(name: "policy/log_std", shape: [head.actionDimension], values: head.logStd))
    }
    tensors += Self.tensors(of: value, prefix: "value")
    return tensors
  }

  private static func tensors(of network: MLP, prefix: String) -> [NamedTensor] {
    network.layers.enumerated().flatMap { index, layer in
      [
        NamedTensor(
          name: "\(prefix)/layer_\(index)/weight", shape: [layer.outputSize, layer.inputSize],
          values: layer.weight.values),
        NamedTensor(name: "\(prefix)/layer_\(index)/bias", shape: [layer.outputSize], values: layer.bias),
      ]
    }
  }
}
