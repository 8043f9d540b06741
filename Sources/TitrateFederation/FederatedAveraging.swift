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
/// al., AISTATS 2017): sum_i n_i delta_i / sum_i n_i.
///
/// - Throws: `AggregationError` when there is no update or the weights sum
///   to zero; callers validate updates first.
public func federatedAverage(_ updates: [ModelUpdate]) throws -> [Double] {
  guard let first = updates.first else { throw AggregationError.noUpdates }
  let totalWeight = updates.reduce(0.0) { $0 + Double($1.sampleCount) }
  guard totalWeight > 0 else { throw AggregationError.zeroTotalWeight }
  var average = [Double](repeating: 0, count: first.delta.count)
  for update in updates {
    precondition(update.delta.count == average.count, "validate updates before averaging")
    let share = Double(update.sampleCount) / totalWeight
    for index in average.indices {
      average[index] += share * update.delta[index]
    }
  }
  return average
}
