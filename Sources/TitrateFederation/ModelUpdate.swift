import TitratePolicy

/// A site's result of local training in one round: the change of its local
/// model relative to the global model it received, and the number of
/// environment steps (patient decisions) behind it.
///
/// The delta is in `Double`: `Double(local) - Double(global)` is exact
/// whenever the two `Float` values have exponents within 29 binary orders of
/// each other (53 - 24 mantissa bits). Then adding the delta back
/// reproduces the local model bit for bit, as the one-site test checks.
/// NOTE: a parameter that moves from about 1e-20 to order 1 in one round
/// breaks that condition. The rounding error is then below one Float ulp
/// of the new value.
public struct ModelUpdate: Sendable {
  /// Name of the site that trained the update.
  public var siteName: String
  /// Round the update belongs to (1-based).
  public var round: Int
  /// Local parameters minus the broadcast global parameters, flat order.
  public var delta: [Double]
  /// Environment steps (patient decisions) behind the update; the FedAvg
  /// weight.
  public var sampleCount: Int
  /// Statistics of the observations the site saw this round, merged into
  /// the global normaliser under federated normalisation; nil otherwise.
  public var observationStatistics: RunningNormalizer.State?
  /// Factor on the update's FedAvg weight that the site computed under
  /// `CostConstraint.scaleWeightsByAdvantageSpread`: `1 + lambda` times the
  /// spread of its shaped advantages. Nil otherwise, and nil from a network
  /// site of a build that predates the factor.
  public var weightFactor: Double?

  public init(
    siteName: String, round: Int, delta: [Double], sampleCount: Int,
    observationStatistics: RunningNormalizer.State? = nil
  ) {
    self.siteName = siteName
    self.round = round
    self.delta = delta
    self.sampleCount = sampleCount
    self.observationStatistics = observationStatistics
  }

  /// Builds the delta between a site's trained parameters and the global
  /// parameters it started from.
  public init(
    siteName: String, round: Int, localParameters: [Float], globalParameters: [Float],
    sampleCount: Int, observationStatistics: RunningNormalizer.State? = nil
  ) {
    precondition(
      localParameters.count == globalParameters.count,
      "local and global parameter counts differ: \(localParameters.count) vs \(globalParameters.count)"
    )
    var delta = [Double](repeating: 0, count: localParameters.count)
    for index in delta.indices {
      delta[index] = Double(localParameters[index]) - Double(globalParameters[index])
    }
    self.init(
      siteName: siteName, round: round, delta: delta, sampleCount: sampleCount,
      observationStatistics: observationStatistics)
  }
}

/// Reason the aggregator rejected an update. A rejected update never
/// reaches the average.
public enum UpdateRejection: Error, Equatable, Sendable, CustomStringConvertible {
  case wrongParameterCount(received: Int, expected: Int)
  case nonFiniteValue(index: Int, value: Double)
  case nonPositiveSampleCount(Int)
  case implausibleSampleCount(received: Int, maximum: Int)
  case staleRound(received: Int, expected: Int)
  case invalidObservationStatistics(String)
  case invalidWeightFactor(Double?)

  public var description: String {
    switch self {
    case .wrongParameterCount(let received, let expected):
      return
        "update has \(received) parameters, expected \(expected) (the site runs a different network shape)"
    case .nonFiniteValue(let index, let value):
      return "update has non-finite value \(value) at parameter \(index) (local training diverged)"
    case .nonPositiveSampleCount(let count):
      return "update reports sample count \(count), expected a positive count"
    case .implausibleSampleCount(let received, let maximum):
      return
        "update reports sample count \(received), above the \(maximum) steps a site can run in one round"
    case .staleRound(let received, let expected):
      return "update is for round \(received), expected round \(expected)"
    case .invalidObservationStatistics(let problem):
      return "update has invalid \(problem)"
    case .invalidWeightFactor(nil):
      return
        "update has no weight factor, which advantage-scaled weights need (the site runs a "
        + "build without them; update it to this aggregator's version)"
    case .invalidWeightFactor(0):
      return
        "update has weight factor 0: every shaped advantage of the site's rollout was equal, "
        + "so the update carries no policy-gradient signal"
    case .invalidWeightFactor(let factor?):
      return "update has weight factor \(factor), expected a finite value > 0"
    }
  }
}

/// Checks one update before aggregation: shape, finite values, a positive
/// and plausible sample count, and the current round.
public func validate(
  _ update: ModelUpdate, expectedParameterCount: Int, round: Int, maximumSampleCount: Int
) -> UpdateRejection? {
  if update.round != round {
    return .staleRound(received: update.round, expected: round)
  }
  if update.delta.count != expectedParameterCount {
    return .wrongParameterCount(received: update.delta.count, expected: expectedParameterCount)
  }
  if update.sampleCount <= 0 {
    return .nonPositiveSampleCount(update.sampleCount)
  }
  if update.sampleCount > maximumSampleCount {
    return .implausibleSampleCount(received: update.sampleCount, maximum: maximumSampleCount)
  }
  if let index = update.delta.firstIndex(where: { !$0.isFinite }) {
    return .nonFiniteValue(index: index, value: update.delta[index])
  }
  return nil
}
