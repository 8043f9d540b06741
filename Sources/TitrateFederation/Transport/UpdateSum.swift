import TitratePolicy

/// A transport that can validate and sum the updates where the sites
/// train, so that the aggregator receives one summed vector per process
/// instead of one delta per site.
///
/// Only mean-based strategies without secure aggregation can use it (see
/// `FederationConfiguration.updateSumProblem`). The sum is added in a
/// different order from the one-process run, so the model may differ from
/// that run in the last bits.
public protocol UpdateSumTransport: FederationTransport {
  /// True when rounds should take the summed path. False sends every
  /// update to the aggregator through `trainSites`.
  var sumsUpdates: Bool { get }

  /// Trains the request's sites, validates each update on the process that
  /// trained it, sums the accepted ones and returns the total for every
  /// site at the aggregator.
  func trainAndSumSites(
    _ request: UpdateSumRequest, trainer: FederatedTrainer
  ) throws -> SiteUpdateSum
}

/// The aggregator's message for one round whose updates are summed where
/// the sites train.
public struct UpdateSumRequest: Sendable, Equatable {
  /// The broadcast model and the sites that train. `siteIndices` lists
  /// the sampled sites that do not drop out.
  public var training: SiteTrainingRequest
  /// Every site sampled this round, in sampling order, including dropouts.
  public var sampledIndices: [Int]
  /// The simulated failure of each sampled site, by site index.
  public var failures: [Int: SimulatedFailureKind]
  /// The clip norm C every site applies before summing under central
  /// differential privacy (the adaptive clip norm of this round, or the
  /// fixed one), in parameter units, or nil otherwise.
  public var clipNorm: Double?

  /// Creates a request.
  public init(
    training: SiteTrainingRequest, sampledIndices: [Int],
    failures: [Int: SimulatedFailureKind], clipNorm: Double?
  ) {
    self.training = training
    self.sampledIndices = sampledIndices
    self.failures = failures
    self.clipNorm = clipNorm
  }
}

/// One sampled site's verdict in a summed round: its record and, when its
/// update was accepted, what the aggregator needs besides the delta.
public struct SiteVerdict: Sendable {
  /// Site index in configuration order.
  public var siteIndex: Int
  /// The round report, with the rejection reason when rejected.
  public var record: SiteRoundRecord
  /// Whether the update reached validation (not dropped, not late).
  public var arrived: Bool
  /// The sample count of an accepted update, or nil when not accepted.
  public var acceptedSampleCount: Int?
  /// The observation statistics of an accepted update under federated
  /// normalisation, or nil otherwise.
  public var observationStatistics: RunningNormalizer.State?
  /// The delta a `stale` attacker captured this round, to replay later.
  public var newStaleDelta: [Double]?
}

/// The sites' summed updates and their verdicts, from one process or
/// combined over several.
///
/// `values` has the layout [weighted delta sum (parameter count), total
/// weight, unclipped count], so that one element-wise sum combines two
/// parts. Without central differential privacy the weight of an update is
/// its sample count under `.bySampleCount` and 1 under `.uniform`. Under
/// central differential privacy each delta is clipped to C and weighs 1,
/// and the last element counts the deltas that needed no clipping.
public struct SiteUpdateSum: Sendable {
  /// Weighted delta sum, total weight and unclipped count in one buffer.
  public var values: [Double]
  /// The verdicts of the sampled sites this part covers.
  public var verdicts: [SiteVerdict]

  /// Creates an empty sum for `parameterCount` parameters.
  public init(parameterCount: Int) {
    values = [Double](repeating: 0, count: parameterCount + 2)
    verdicts = []
  }

  /// Number of model parameters the sum covers.
  public var parameterCount: Int { values.count - 2 }
  /// Sum of the weighted (or clipped) deltas, in parameter units.
  public var deltaSum: [Double] { Array(values[0..<parameterCount]) }
  /// Sum of the weights of the accepted updates.
  public var totalWeight: Double { values[parameterCount] }
  /// Number of accepted deltas that needed no clipping (0 without central
  /// differential privacy).
  public var unclippedCount: Int { Int(values[parameterCount + 1]) }

  /// Adds one delta with a weight, clipped when `clipNorm` is given.
  mutating func add(_ delta: [Double], weight: Double, clipNorm: Double?) {
    precondition(delta.count == parameterCount, "delta length differs from the sum's")
    if let clipNorm {
      let clipped = clipDelta(delta, clipNorm: clipNorm)
      for index in delta.indices { values[index] += clipped.delta[index] }
      values[parameterCount] += 1
      if !clipped.wasClipped { values[parameterCount + 1] += 1 }
      return
    }
    for index in delta.indices { values[index] += weight * delta[index] }
    values[parameterCount] += weight
  }

  /// Adds another part: its values element by element, and its verdicts.
  public mutating func merge(_ other: SiteUpdateSum) {
    precondition(other.values.count == values.count, "sums of different lengths")
    for index in values.indices { values[index] += other.values[index] }
    verdicts += other.verdicts
  }
}
