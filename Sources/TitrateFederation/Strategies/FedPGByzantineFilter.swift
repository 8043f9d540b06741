#if canImport(Glibc)
  import Glibc
#endif

/// Settings of the Byzantine filter of FedPG-BR (Fan, Ma, Dai, Jing, Tan and
/// Low, "Fault-Tolerant Federated Reinforcement Learning with Theoretical
/// Guarantee", NeurIPS 2021, Algorithm 1.1), meant for policy-gradient
/// estimates that each average B trajectories.
///
/// The defaults are the CartPole settings in the authors' code
/// (github.com/flint-xf-fan/Byzantine-Federated-RL, `codes/options.py`):
/// sigma = 0.06, delta = 0.6, alpha = 0.4, and B = 16, the middle of the
/// 12...20 range that code draws B from. NOTE: sigma bounds the spread of
/// honest gradient estimates and must be tuned to the task, because too
/// small a sigma rejects every update.
public struct FedPGFilterConfiguration: Codable, Sendable, Equatable {
  /// sigma, in (0, inf): the bound on the standard deviation of one
  /// trajectory's gradient estimate, in the units of the update vector.
  public var varianceBound: Double = 0.06
  /// delta, in (0, 1): the failure probability in the threshold
  /// V = 2 ln(2K / delta).
  public var confidence: Double = 0.6
  /// alpha, in [0, 0.5): the largest fraction of hostile sites assumed.
  public var byzantineFraction: Double = 0.4
  /// B, 1 or more: trajectories behind each site's gradient estimate.
  public var trajectoriesPerUpdate: Int = 16

  /// Creates the settings; see the type's summary for the defaults.
  public init(
    varianceBound: Double = 0.06, confidence: Double = 0.6, byzantineFraction: Double = 0.4,
    trajectoriesPerUpdate: Int = 16
  ) {
    self.varianceBound = varianceBound
    self.confidence = confidence
    self.byzantineFraction = byzantineFraction
    self.trajectoriesPerUpdate = trajectoriesPerUpdate
  }

  /// Lists every setting outside its range.
  func problems() -> [StrategyProblem] {
    var found: [StrategyProblem] = []
    if !(varianceBound > 0 && varianceBound.isFinite) {
      found.append(
        .parameterOutOfRange(name: "FedPG-BR sigma", value: varianceBound, allowed: "(0, inf)"))
    }
    if !(confidence > 0 && confidence < 1) {
      found.append(
        .parameterOutOfRange(name: "FedPG-BR delta", value: confidence, allowed: "(0, 1)"))
    }
    if !(0..<0.5).contains(byzantineFraction) {
      found.append(
        .parameterOutOfRange(
          name: "FedPG-BR alpha", value: byzantineFraction, allowed: "[0, 0.5)"))
    }
    if trajectoriesPerUpdate < 1 {
      found.append(
        .parameterOutOfRange(
          name: "FedPG-BR trajectories per update B", value: Double(trajectoriesPerUpdate),
          allowed: "[1, inf)"))
    }
    return found
  }

  /// Computes the first, tighter radius T = 2 sigma sqrt(V / B) with
  /// V = 2 ln(2K / delta), for K updates.
  public func tightRadius(updateCount: Int) -> Double {
    let v = 2 * log(2 * Double(updateCount) / confidence)
    return 2 * varianceBound * (v / Double(trajectoriesPerUpdate)).squareRoot()
  }
}

/// Rule of the FedPG-BR filter that produced the kept set.
public enum FedPGFilterRule: String, Sendable, Equatable {
  /// Rule R1, radius T = 2 sigma sqrt(V / B).
  case tight
  /// Rule R2, radius 2 sigma, used when R1 keeps fewer than (1 - alpha) K.
  case loose
}

/// Result of the FedPG-BR filter.
public struct FedPGFilterResult: Equatable, Sendable {
  /// Mean of the kept vectors.
  public var aggregate: [Double]
  /// Indices of the kept vectors into the input, ascending.
  public var keptIndices: [Int]
  /// The rule whose radius produced the kept set.
  public var rule: FedPGFilterRule
  /// The radius of that rule.
  public var radius: Double
}

/// Filters and averages K gradient estimates with the FedPG-BR rule.
///
/// With radius r:
/// 1. Candidates are the vectors with more than K / 2 vectors, themselves
///    included, within distance r.
/// 2. The reference is the candidate closest to the candidates' mean (the
///    first one on ties).
/// 3. The kept set is every vector within r of the reference.
/// Rule R1 uses r = T. When R1 finds no candidate, or keeps fewer than
/// (1 - alpha) K vectors, rule R2 repeats the steps with r = 2 sigma. The
/// kept vectors are averaged with equal weights. Distances are Euclidean.
/// - Throws: `StrategyRoundError.filterRejectedAll` when R2 keeps nothing.
/// - Precondition: `vectors` is non-empty and all have one length.
public func fedPGByzantineFilter(
  _ vectors: [[Double]], configuration: FedPGFilterConfiguration
) throws(StrategyRoundError) -> FedPGFilterResult {
  precondition(!vectors.isEmpty, "fedPGByzantineFilter needs at least one vector")
  let count = vectors.count
  var distances = [[Double]](repeating: [Double](repeating: 0, count: count), count: count)
  for i in 0..<count {
    for j in (i + 1)..<count {
      let distance = squaredDistance(vectors[i], vectors[j]).squareRoot()
      distances[i][j] = distance
      distances[j][i] = distance
    }
  }

  let tight = configuration.tightRadius(updateCount: count)
  let tightKept = keptByFilter(vectors, distances: distances, radius: tight)
  let minimumKept = (1 - configuration.byzantineFraction) * Double(count)
  if !tightKept.isEmpty && Double(tightKept.count) >= minimumKept {
    return FedPGFilterResult(
      aggregate: uniformMean(of: tightKept.map { vectors[$0] }), keptIndices: tightKept,
      rule: .tight, radius: tight)
  }

  let loose = 2 * configuration.varianceBound
  let looseKept = keptByFilter(vectors, distances: distances, radius: loose)
  guard !looseKept.isEmpty else {
    throw .filterRejectedAll(updateCount: count, looseRadius: loose)
  }
  return FedPGFilterResult(
    aggregate: uniformMean(of: looseKept.map { vectors[$0] }), keptIndices: looseKept,
    rule: .loose, radius: loose)
}

/// Indices kept by one pass of the filter at `radius`; empty when no vector
/// has a majority within the radius.
private func keptByFilter(_ vectors: [[Double]], distances: [[Double]], radius: Double) -> [Int] {
  let count = vectors.count
  let candidates = (0..<count).filter { i in
    let close = distances[i].filter { $0 <= radius }.count
    return Double(close) > Double(count) / 2
  }
  guard !candidates.isEmpty else { return [] }
  let candidateMean = uniformMean(of: candidates.map { vectors[$0] })
  var reference = candidates[0]
  var referenceDistance = squaredDistance(vectors[reference], candidateMean)
  for candidate in candidates.dropFirst() {
    let distance = squaredDistance(vectors[candidate], candidateMean)
    if distance < referenceDistance {
      reference = candidate
      referenceDistance = distance
    }
  }
  return (0..<count).filter { distances[reference][$0] <= radius }
}
