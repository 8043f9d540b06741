/// Result of Krum or Multi-Krum: the aggregate and which updates it used.
public struct KrumSelection: Equatable, Sendable {
  /// Uniform mean of the selected vectors (the single vector for Krum).
  public var aggregate: [Double]
  /// Indices of the selected vectors into the input, lowest score first.
  public var selectedIndices: [Int]
  /// Krum score of every input vector, in input order.
  public var scores: [Double]
}

/// Multi-Krum (Blanchard, El Mhamdi, Guerraoui and Stainer, "Machine
/// Learning with Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS
/// 2017); Krum is the case `selectedCount` = 1.
///
/// The score of vector i is the sum of its squared Euclidean distances to
/// its n - f - 2 nearest other vectors. The m vectors with the lowest scores
/// are kept and averaged with equal weights. Equal scores keep the lower
/// index, so the result does not depend on sort stability.
///
/// - Parameters:
///   - byzantineCount: f, the number of hostile vectors to tolerate, 0 or
///     more; Krum needs n > 2f + 2.
///   - selectedCount: m, in 1...n - f.
/// - Throws: `StrategyRoundError.boundViolated` when n, f or m break those
///   bounds.
/// - Precondition: all vectors have one length.
public func multiKrum(_ vectors: [[Double]], byzantineCount: Int, selectedCount: Int)
  throws(StrategyRoundError) -> KrumSelection
{
  let n = vectors.count
  if let problem = krumProblem(
    participantCount: n, byzantineCount: byzantineCount, selectedCount: selectedCount)
  {
    throw .boundViolated(problem)
  }
  let scores = krumScores(vectors, neighbourCount: n - byzantineCount - 2)
  let ranked = scores.indices.sorted {
    scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1
  }
  let selected = Array(ranked.prefix(selectedCount))
  let aggregate = uniformMean(of: selected.map { vectors[$0] })
  return KrumSelection(aggregate: aggregate, selectedIndices: selected, scores: scores)
}

/// Returns the problem with Krum's bounds n > 2f + 2 and 1 <= m <= n - f,
/// or nil when they hold.
func krumProblem(participantCount n: Int, byzantineCount f: Int, selectedCount m: Int)
  -> StrategyProblem?
{
  if f < 0 { return .negativeByzantineCount(byzantineCount: f) }
  if n <= 2 * f + 2 { return .tooFewSitesForKrum(participantCount: n, byzantineCount: f) }
  if m < 1 || m > n - f {
    return .multiKrumSelectionOutOfRange(selectedCount: m, participantCount: n, byzantineCount: f)
  }
  return nil
}

/// Krum score of each vector: the sum of the `neighbourCount` smallest
/// squared distances to the other vectors.
/// - Precondition: 0 <= neighbourCount <= vectors.count - 1.
func krumScores(_ vectors: [[Double]], neighbourCount: Int) -> [Double] {
  let n = vectors.count
  precondition(
    (0...max(0, n - 1)).contains(neighbourCount),
    "Krum neighbour count \(neighbourCount) must be in 0...\(n - 1)")
  var distances = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
  for i in 0..<n {
    for j in (i + 1)..<n {
      let distance = squaredDistance(vectors[i], vectors[j])
      distances[i][j] = distance
      distances[j][i] = distance
    }
  }
  return (0..<n).map { i in
    let others = (0..<n).filter { $0 != i }.map { distances[i][$0] }.sorted()
    return others.prefix(neighbourCount).reduce(0, +)
  }
}
