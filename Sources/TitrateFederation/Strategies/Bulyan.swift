/// Result of Bulyan: the aggregate and which updates the Krum stage kept.
public struct BulyanSelection: Equatable, Sendable {
  /// The coordinate-wise trimmed average around the median.
  public var aggregate: [Double]
  /// Indices of the theta = n - 2f vectors the repeated Krum stage kept, in
  /// the order they were picked.
  public var selectedIndices: [Int]
}

/// Bulyan (El Mhamdi, Guerraoui and Rouault, "The Hidden Vulnerability of
/// Distributed Learning in Byzantium", ICML 2018), with Krum as its
/// selection rule.
///
/// 1. Select theta = n - 2f vectors one at a time: run Krum on the vectors
///    not yet selected and move its choice to the selected set. Each Krum
///    scores with max(1, n' - f - 2) neighbours, where n' is the number of
///    vectors left, capped at n' - 1, because the later picks have too few
///    vectors left for n' - f - 2.
/// 2. Per coordinate, take the median of the theta selected values and
///    average the beta = theta - 2f values closest to it. Equal distances
///    keep the smaller value.
///
/// - Parameter byzantineCount: f, 0 or more; Bulyan needs n >= 4f + 3.
/// - Throws: `StrategyRoundError.boundViolated` when n < 4f + 3 or f < 0.
/// - Precondition: all vectors have one length.
public func bulyan(_ vectors: [[Double]], byzantineCount: Int) throws(StrategyRoundError)
  -> BulyanSelection
{
  let n = vectors.count
  if let problem = bulyanProblem(participantCount: n, byzantineCount: byzantineCount) {
    throw .boundViolated(problem)
  }
  let f = byzantineCount
  let selectionCount = n - 2 * f
  let averagedCount = selectionCount - 2 * f

  // Step 1: repeated Krum over the vectors not yet selected.
  var remaining = Array(vectors.indices)
  var selected: [Int] = []
  while selected.count < selectionCount {
    let left = remaining.count
    let neighbourCount = min(max(1, left - f - 2), left - 1)
    let scores = krumScores(remaining.map { vectors[$0] }, neighbourCount: neighbourCount)
    // The first minimum keeps the lower index on ties.
    var best = 0
    for position in scores.indices where scores[position] < scores[best] {
      best = position
    }
    selected.append(remaining.remove(at: best))
  }

  // Step 2: per coordinate, average the values closest to the median.
  var aggregate = [Double](repeating: 0, count: vectors[0].count)
  for coordinate in aggregate.indices {
    let column = selected.map { vectors[$0][coordinate] }.sorted()
    let median = medianOfSorted(column)
    let closest = column.indices.sorted {
      let left = abs(column[$0] - median)
      let right = abs(column[$1] - median)
      return left != right ? left < right : $0 < $1
    }
    var sum = 0.0
    for position in closest.prefix(averagedCount) {
      sum += column[position]
    }
    aggregate[coordinate] = sum / Double(averagedCount)
  }
  return BulyanSelection(aggregate: aggregate, selectedIndices: selected)
}

/// Returns the problem with Bulyan's bound n >= 4f + 3, or nil when it
/// holds.
func bulyanProblem(participantCount n: Int, byzantineCount f: Int) -> StrategyProblem? {
  if f < 0 { return .negativeByzantineCount(byzantineCount: f) }
  if n < 4 * f + 3 { return .tooFewSitesForBulyan(participantCount: n, byzantineCount: f) }
  return nil
}
