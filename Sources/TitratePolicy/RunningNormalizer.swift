/// Per-feature running mean and variance of observations, used to feed the
/// networks standardised inputs (PPO's observation normalisation).
///
/// Batches are merged with the parallel formula of Chan, Golub and LeVeque
/// (1979), so the result equals the two-pass statistics of every
/// observation seen, up to rounding. Statistics are kept in Double.
public struct RunningNormalizer: Sendable, Equatable {
  /// Statistics stored and restored exactly by checkpoints.
  public struct State: Sendable, Equatable, Codable {
    /// Mean of each feature.
    public var mean: [Double]
    /// Population variance (divided by `count`) of each feature.
    public var variance: [Double]
    /// Number of observations merged so far.
    public var count: Double

    /// Creates a state from stored statistics.
    public init(mean: [Double], variance: [Double], count: Double) {
      self.mean = mean
      self.variance = variance
      self.count = count
    }
  }

  /// Normalised values are clipped to `[-clipRange, clipRange]`.
  public static let clipRange: Float = 10
  /// Added to the variance before the square root, so a constant feature
  /// maps to 0 instead of dividing by 0.
  public static let epsilon: Double = 1e-8

  /// Current statistics; `restore(_:)` sets stored ones.
  public private(set) var state: State

  /// Creates a normaliser with mean 0, variance 1 and count 0, which leaves
  /// observations unchanged (except for clipping) until the first update.
  public init(featureCount: Int) {
    precondition(featureCount > 0, "feature count must be positive, got \(featureCount)")
    state = State(
      mean: [Double](repeating: 0, count: featureCount),
      variance: [Double](repeating: 1, count: featureCount), count: 0)
  }

  /// Replaces the statistics with stored ones.
  /// - Precondition: the stored state has `featureCount` features and a
  ///   count >= 0.
  public mutating func restore(_ stored: State) {
    precondition(
      stored.mean.count == featureCount && stored.variance.count == featureCount
        && stored.count >= 0,
      "normalizer state must hold \(featureCount) features and a count >= 0, got "
        + "\(stored.mean.count) means, \(stored.variance.count) variances, count \(stored.count)")
    state = stored
  }

  /// Number of features per observation.
  public var featureCount: Int { state.mean.count }

  /// Merges the statistics of `rows` observations (row-major
  /// `rows x featureCount`).
  public mutating func update(observations: [Float], rows: Int) {
    precondition(
      observations.count == rows * featureCount,
      "\(observations.count) values are not \(rows) rows of \(featureCount) features")
    guard rows > 0 else { return }
    var batchMean = [Double](repeating: 0, count: featureCount)
    var batchVariance = [Double](repeating: 0, count: featureCount)
    for row in 0..<rows {
      for feature in 0..<featureCount {
        batchMean[feature] += Double(observations[row * featureCount + feature])
      }
    }
    for feature in 0..<featureCount { batchMean[feature] /= Double(rows) }
    for row in 0..<rows {
      for feature in 0..<featureCount {
        let deviation = Double(observations[row * featureCount + feature]) - batchMean[feature]
        batchVariance[feature] += deviation * deviation
      }
    }
    for feature in 0..<featureCount { batchVariance[feature] /= Double(rows) }
    merge(State(mean: batchMean, variance: batchVariance, count: Double(rows)))
  }

  /// Merges another set of statistics over the same features.
  public mutating func merge(_ other: State) {
    precondition(
      other.mean.count == featureCount && other.variance.count == featureCount,
      "cannot merge statistics of \(other.mean.count) features into \(featureCount)")
    guard other.count > 0 else { return }
    let total = state.count + other.count
    var merged = state
    for feature in 0..<featureCount {
      let delta = other.mean[feature] - state.mean[feature]
      merged.mean[feature] = state.mean[feature] + delta * other.count / total
      let sumOfSquares =
        state.variance[feature] * state.count + other.variance[feature] * other.count
        + delta * delta * state.count * other.count / total
      merged.variance[feature] = sumOfSquares / total
    }
    merged.count = total
    state = merged
  }

  /// Returns the per-feature Float mean and `1 / sqrt(variance + epsilon)`
  /// that `normalize` applies as `(x - mean) * scale`, so that other
  /// normalising code (`PolicyEvaluator`) rounds exactly as it does.
  public func floatCoefficients() -> (means: [Float], scales: [Float]) {
    let means = state.mean.map { Float($0) }
    let scales = state.variance.map { Float(1 / ($0 + Self.epsilon).squareRoot()) }
    return (means, scales)
  }

  /// Returns `(x - mean) / sqrt(variance + epsilon)` per feature, clipped
  /// to `[-clipRange, clipRange]`, for row-major observations.
  public func normalize(_ observations: [Float]) -> [Float] {
    precondition(
      observations.count % featureCount == 0,
      "\(observations.count) values are not whole rows of \(featureCount) features")
    let (means, scales) = floatCoefficients()
    var result = observations
    let features = featureCount
    result.withUnsafeMutableBufferPointer { buffer in
      for index in buffer.indices {
        let feature = index % features
        let value = (buffer[index] - means[feature]) * scales[feature]
        buffer[index] = min(max(value, -Self.clipRange), Self.clipRange)
      }
    }
    return result
  }
}
