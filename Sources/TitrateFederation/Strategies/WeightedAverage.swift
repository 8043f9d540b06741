/// Weighting rule of FedAvg for each site's update.
public enum UpdateWeighting: String, Codable, Sendable, Equatable, CaseIterable {
  /// Weight n_i / sum_j n_j, with n_i the update's sample count (McMahan et
  /// al., AISTATS 2017).
  case bySampleCount
  /// Weight 1 / n for each of the n updates. Central differential privacy
  /// requires this weighting, because it bounds one site's influence on
  /// the mean by C / n for clip norm C.
  case uniform
}

/// Checks that the updates are non-empty and of one length, and returns the
/// deltas.
func deltaVectors(of updates: [ModelUpdate]) throws(StrategyRoundError) -> [[Double]] {
  guard let first = updates.first else { throw .noUpdates }
  for update in updates where update.delta.count != first.delta.count {
    throw .mismatchedLength(
      siteName: update.siteName, received: update.delta.count, expected: first.delta.count)
  }
  return updates.map(\.delta)
}

/// Averages the deltas of validated updates (FedAvg).
///
/// `.bySampleCount` computes sum_i n_i delta_i / sum_i n_i and divides once
/// at the end, unlike `federatedAverage`, which scales each delta by its
/// share n_i / N. Dividing last returns identical updates unchanged
/// whenever each n_i * delta is exact, as for the values in the tests.
/// `.uniform` is the plain mean. A zero-norm update only adds zeros, so no
/// division depends on a norm.
/// - Throws: `StrategyRoundError` for an empty list or mismatched lengths,
///   `AggregationError.zeroTotalWeight` when sample counts sum to zero.
public func averageDeltas(_ updates: [ModelUpdate], weighting: UpdateWeighting) throws -> [Double] {
  let vectors = try deltaVectors(of: updates)
  switch weighting {
  case .bySampleCount:
    let totalWeight = updates.reduce(0.0) { $0 + Double($1.sampleCount) }
    guard totalWeight > 0 else { throw AggregationError.zeroTotalWeight }
    var sum = [Double](repeating: 0, count: vectors[0].count)
    for update in updates {
      let weight = Double(update.sampleCount)
      for index in sum.indices {
        sum[index] += weight * update.delta[index]
      }
    }
    return sum.map { $0 / totalWeight }
  case .uniform:
    return uniformMean(of: vectors)
  }
}

/// Mean of equally long vectors, coordinate by coordinate.
/// - Precondition: `vectors` is non-empty and all have one length.
func uniformMean(of vectors: [[Double]]) -> [Double] {
  precondition(!vectors.isEmpty, "uniformMean needs at least one vector")
  var sum = [Double](repeating: 0, count: vectors[0].count)
  for vector in vectors {
    for index in sum.indices {
      sum[index] += vector[index]
    }
  }
  let count = Double(vectors.count)
  return sum.map { $0 / count }
}

/// Squared Euclidean distance between two vectors of one length, summed
/// term by term so that it is never negative.
func squaredDistance(_ a: [Double], _ b: [Double]) -> Double {
  var sum = 0.0
  for index in a.indices {
    let difference = a[index] - b[index]
    sum += difference * difference
  }
  return sum
}
