/// One named parameter array, the unit in which checkpoints and interop
/// code exchange network weights.
public struct NamedTensor: Sendable, Equatable, Codable {
  /// Slash-separated path such as `policy/layer_0/weight`.
  public var name: String
  /// Dimensions, outermost first; the product equals `values.count`.
  public var shape: [Int]
  /// Elements in row-major (C) order.
  public var values: [Float]

  /// Creates a tensor.
  /// - Precondition: the product of `shape` equals `values.count`.
  public init(name: String, shape: [Int], values: [Float]) {
    precondition(
      shape.reduce(1, *) == values.count,
      "tensor \(name) of shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
    self.name = name
    self.shape = shape
    self.values = values
  }
}

/// Errors raised when an actor-critic is rebuilt from named tensors.
public enum ActorCriticError: Error, Equatable, CustomStringConvertible {
  /// A tensor the architecture needs is absent.
  case missingTensor(name: String)
  /// A tensor has another shape than the architecture needs.
  case shapeMismatch(name: String, expected: [Int], found: [Int])
  /// A tensor does not belong to the architecture.
  case unexpectedTensor(name: String)
  /// The architecture itself is invalid.
  case invalidArchitecture(String)
  /// The stored policy weights break the network's monotone constraint, so
  /// the file was changed after training or written by other code.
  case monotoneConstraintBroken(String)

  public var description: String {
    switch self {
    case .missingTensor(let name):
      return "tensor \(name) is missing; the stored network has a different architecture "
        + "(check hidden sizes and action space)"
    case .shapeMismatch(let name, let expected, let found):
      return "tensor \(name) has shape \(found) but the architecture needs \(expected); "
        + "check observation size, hidden sizes and action space"
    case .unexpectedTensor(let name):
      return "tensor \(name) is not part of the architecture; check hidden sizes and "
        + "action space"
    case .invalidArchitecture(let reason):
      return "invalid actor-critic architecture: \(reason)"
    case .monotoneConstraintBroken(let problem):
      return "\(problem); constrained training never writes such a weight, so the file was "
        + "changed after training and its monotone guarantee does not hold. Use the original "
        + "checkpoint or train again"
    }
  }
}
