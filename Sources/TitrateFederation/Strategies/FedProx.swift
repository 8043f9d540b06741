/// The proximal term of FedProx (Li et al., "Federated Optimization in
/// Heterogeneous Networks", MLSys 2020): the local objective becomes
/// F_k(w) + mu / 2 * ||w - w_global||^2, which keeps a site's model near the
/// global model it received. The server aggregates as FedAvg does, so
/// FedProx is no `AggregationStrategy` case. Local training adds the
/// gradient below to its loss gradient.
public enum FedProx {
  /// Returns the gradient of mu / 2 * ||w - w_global||^2 with respect to w,
  /// which is mu * (w - w_global).
  ///
  /// - Parameters:
  ///   - parameters: the site's current local parameters w, flat order.
  ///   - globalParameters: the global parameters received this round.
  ///   - mu: the proximal strength, 0 or more (0 gives plain FedAvg).
  public static func proximalGradient(
    parameters: [Float], globalParameters: [Float], mu: Double
  ) -> [Double] {
    precondition(
      parameters.count == globalParameters.count,
      "local and global parameter counts differ: \(parameters.count) vs \(globalParameters.count)")
    precondition(mu >= 0 && mu.isFinite, "FedProx mu must be finite and 0 or more, got \(mu)")
    var gradient = [Double](repeating: 0, count: parameters.count)
    for index in gradient.indices {
      gradient[index] = mu * (Double(parameters[index]) - Double(globalParameters[index]))
    }
    return gradient
  }

  /// Returns the proximal penalty mu / 2 * ||w - w_global||^2 itself, for
  /// logging the local objective.
  public static func proximalPenalty(
    parameters: [Float], globalParameters: [Float], mu: Double
  ) -> Double {
    precondition(
      parameters.count == globalParameters.count,
      "local and global parameter counts differ: \(parameters.count) vs \(globalParameters.count)")
    var sum = 0.0
    for index in parameters.indices {
      let difference = Double(parameters[index]) - Double(globalParameters[index])
      sum += difference * difference
    }
    return mu / 2 * sum
  }
}
