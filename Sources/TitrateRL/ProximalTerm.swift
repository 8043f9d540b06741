/// The FedProx proximal term mu / 2 * ||w - anchor||^2 (Li et al.,
/// "Federated Optimization in Heterogeneous Networks", MLSys 2020), which
/// keeps local training near the model a site received.
public struct ProximalTerm: Sendable, Equatable {
  /// The parameters w is pulled toward, in `ActorCritic` flat order.
  public var anchor: [Float]
  /// mu, 0 or more: the strength of the pull per unit of distance.
  public var mu: Float

  /// Creates the term.
  /// - Precondition: mu is finite and 0 or more.
  public init(anchor: [Float], mu: Float) {
    precondition(mu >= 0 && mu.isFinite, "proximal mu must be finite and >= 0, got \(mu)")
    self.anchor = anchor
    self.mu = mu
  }

  /// Adds the term's gradient mu (w - anchor) to `gradient`.
  func addGradient(parameters: [Float], to gradient: inout [Float]) {
    precondition(
      parameters.count == anchor.count && gradient.count == anchor.count,
      "proximal anchor has \(anchor.count) parameters, the network \(parameters.count)")
    guard mu > 0 else { return }
    for index in gradient.indices {
      gradient[index] += mu * (parameters[index] - anchor[index])
    }
  }
}
