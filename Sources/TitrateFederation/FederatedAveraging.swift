/// Errors of the aggregation step itself.
public enum AggregationError: Error, Equatable, CustomStringConvertible {
  case noUpdates
  case zeroTotalWeight

  public var description: String {
    switch self {
    case .noUpdates:
      return "no valid update reached the aggregator this round"
    case .zeroTotalWeight:
      return "the accepted updates have a total sample count of 0"
    }
  }
}

/// Averages updates weighted by their sample counts (FedAvg, McMahan et
/// al., AISTATS 2017): sum_i n_i delta_i / sum_i n_i, or with a factor per
/// update, sum_i n_i f_i delta_i / sum_i n_i f_i. Without factors the sum
/// rounds exactly as with factors of 1.
///
/// - Throws: `AggregationError` when there is no update or the weights sum
///   to zero; callers validate updates first.
/// - Precondition: `factors`, when given, has one finite value > 0 for each
///   update.
public func federatedAverage(_ updates: [ModelUpdate], factors: [Double]? = nil) throws
  -> [Double]
{
  guard let first = updates.first else { throw AggregationError.noUpdates }
  if let factors {
    precondition(
      factors.count == updates.count && factors.allSatisfy { $0 > 0 && $0.isFinite },
      "\(factors.count) factors for \(updates.count) updates; each must be finite and > 0")
  }
  func weight(_ index: Int) -> Double {
    Double(updates[index].sampleCount) * (factors?[index] ?? 1)
  }
  let totalWeight = updates.indices.reduce(0.0) { $0 + weight($1) }
  guard totalWeight > 0 else { throw AggregationError.zeroTotalWeight }
  var average = [Double](repeating: 0, count: first.delta.count)
  for (position, update) in updates.enumerated() {
    precondition(update.delta.count == average.count, "validate updates before averaging")
    let share = weight(position) / totalWeight
    for index in average.indices {
      average[index] += share * update.delta[index]
    }
  }
  return average
}
