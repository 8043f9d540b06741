/// The rule that turns one round's validated updates into the step added to
/// the global parameters.
///
/// Every case works on update deltas (local minus global parameters). The
/// robust rules are translation-equivariant, so ranking deltas picks the
/// same sites as ranking local models. Create a checked value with
/// `init(validating:participantCount:)`; `aggregate(_:state:)` checks the
/// bounds again against the updates that actually arrived.
public enum AggregationStrategy: Codable, Sendable, Equatable {
  /// FedAvg (McMahan et al. 2017): the weighted mean of the deltas.
  case federatedAveraging(weighting: UpdateWeighting)
  /// FedAvgM: FedAvg followed by a server momentum step.
  case federatedAveragingWithMomentum(
    weighting: UpdateWeighting, configuration: ServerMomentumConfiguration)
  /// FedAdagrad, FedAdam or FedYogi (Reddi et al. 2021): FedAvg followed by
  /// an adaptive server step.
  case adaptive(
    optimizer: AdaptiveServerOptimizer, weighting: UpdateWeighting,
    configuration: AdaptiveServerConfiguration)
  /// Coordinate-wise median; ignores sample counts.
  case coordinateMedian
  /// Coordinate-wise trimmed mean cutting floor(beta * n) values at each
  /// end; ignores sample counts.
  case trimmedMean(trimFraction: Double)
  /// Krum: the single update with the lowest Krum score; needs n > 2f + 2.
  case krum(byzantineCount: Int)
  /// Multi-Krum: the uniform mean of the m lowest-scored updates; needs
  /// n > 2f + 2 and 1 <= m <= n - f.
  case multiKrum(byzantineCount: Int, selectedCount: Int)
  /// Bulyan over Krum; needs n >= 4f + 3.
  case bulyan(byzantineCount: Int)
  /// The Byzantine filter of FedPG-BR for policy-gradient estimates.
  case fedPGByzantineFilter(FedPGFilterConfiguration)

  /// Checks a strategy against the number of updates each round is expected
  /// to deliver, and returns it unchanged when it can work.
  ///
  /// - Parameter participantCount: n, the sites expected per round.
  /// - Throws: `StrategyConfigurationError` listing every problem, each with
  ///   the values and the fix, for example "bulyan needs n >= 4f + 3: n = 6,
  ///   f = 1; ...".
  public init(validating strategy: AggregationStrategy, participantCount: Int)
    throws(StrategyConfigurationError)
  {
    let problems = strategy.problems(participantCount: participantCount)
    guard problems.isEmpty else { throw StrategyConfigurationError(problems: problems) }
    self = strategy
  }

  /// Lists every problem of this strategy with n participants; empty when
  /// it can work.
  public func problems(participantCount n: Int) -> [StrategyProblem] {
    var found: [StrategyProblem] = []
    if n < 1 { found.append(.noParticipants(participantCount: n)) }
    switch self {
    case .federatedAveraging, .coordinateMedian:
      break
    case .federatedAveragingWithMomentum(_, let configuration):
      found += configuration.problems()
    case .adaptive(_, _, let configuration):
      found += configuration.problems()
    case .trimmedMean(let beta):
      if !(0..<0.5).contains(beta) { found.append(.trimFractionOutOfRange(trimFraction: beta)) }
    case .krum(let f):
      if n >= 1, let problem = krumProblem(participantCount: n, byzantineCount: f, selectedCount: 1)
      {
        found.append(problem)
      }
    case .multiKrum(let f, let m):
      if n >= 1, let problem = krumProblem(participantCount: n, byzantineCount: f, selectedCount: m)
      {
        found.append(problem)
      }
    case .bulyan(let f):
      if n >= 1, let problem = bulyanProblem(participantCount: n, byzantineCount: f) {
        found.append(problem)
      }
    case .fedPGByzantineFilter(let configuration):
      found += configuration.problems()
    }
    return found
  }

  /// Whether the strategy averages all updates with weights that central
  /// differential privacy can bound: FedAvg and the server optimisers that
  /// follow it. Robust rules select or rank updates, so the Gaussian
  /// mechanism's sensitivity C / n does not apply to them.
  public var isMeanBased: Bool {
    switch self {
    case .federatedAveraging, .federatedAveragingWithMomentum, .adaptive:
      return true
    case .coordinateMedian, .trimmedMean, .krum, .multiKrum, .bulyan, .fedPGByzantineFilter:
      return false
    }
  }
}

/// The outcome of one aggregation round.
public struct AggregationResult: Equatable, Sendable {
  /// The vector to add to the global parameters.
  public var step: [Double]
  /// Names of the sites whose updates the strategy used. Coordinate-wise
  /// rules use every site.
  public var usedSiteNames: [String]
}

// The free functions share names with the cases, so calls below name the
// module.
extension AggregationStrategy {
  /// Aggregates one round of validated updates and advances the server
  /// state.
  ///
  /// - Parameters:
  ///   - updates: the accepted updates of this round (see `validate`).
  ///   - state: the server optimiser state; unchanged when this throws.
  /// - Throws: `StrategyRoundError` when the round cannot be aggregated
  ///   (no update, mismatched lengths, a bound broken by dropouts, the
  ///   FedPG-BR filter keeping nothing), or `AggregationError` when sample
  ///   counts sum to zero.
  public func aggregate(_ updates: [ModelUpdate], state: inout StrategyState) throws
    -> AggregationResult
  {
    let vectors = try deltaVectors(of: updates)
    let allSites = updates.map(\.siteName)
    if let problem = problems(participantCount: updates.count).first {
      throw StrategyRoundError.boundViolated(problem)
    }
    var next = state
    let result: AggregationResult
    switch self {
    case .federatedAveraging(let weighting):
      let average = try averageDeltas(updates, weighting: weighting)
      next.roundsApplied += 1
      result = AggregationResult(step: average, usedSiteNames: allSites)
    case .federatedAveragingWithMomentum(let weighting, let configuration):
      let average = try averageDeltas(updates, weighting: weighting)
      let step = try serverMomentumStep(
        averageDelta: average, configuration: configuration, state: &next)
      result = AggregationResult(step: step, usedSiteNames: allSites)
    case .adaptive(let optimizer, let weighting, let configuration):
      let average = try averageDeltas(updates, weighting: weighting)
      let step = try adaptiveServerStep(
        pseudoGradient: average, optimizer: optimizer, configuration: configuration,
        state: &next)
      result = AggregationResult(step: step, usedSiteNames: allSites)
    case .coordinateMedian:
      next.roundsApplied += 1
      result = AggregationResult(
        step: TitrateFederation.coordinateMedian(vectors), usedSiteNames: allSites)
    case .trimmedMean(let beta):
      next.roundsApplied += 1
      let step = try TitrateFederation.trimmedMean(vectors, trimFraction: beta)
      result = AggregationResult(step: step, usedSiteNames: allSites)
    case .krum(let f):
      next.roundsApplied += 1
      let selection = try TitrateFederation.multiKrum(vectors, byzantineCount: f, selectedCount: 1)
      result = AggregationResult(
        step: selection.aggregate, usedSiteNames: selection.selectedIndices.map { allSites[$0] })
    case .multiKrum(let f, let m):
      next.roundsApplied += 1
      let selection = try TitrateFederation.multiKrum(vectors, byzantineCount: f, selectedCount: m)
      result = AggregationResult(
        step: selection.aggregate, usedSiteNames: selection.selectedIndices.map { allSites[$0] })
    case .bulyan(let f):
      next.roundsApplied += 1
      let selection = try TitrateFederation.bulyan(vectors, byzantineCount: f)
      result = AggregationResult(
        step: selection.aggregate, usedSiteNames: selection.selectedIndices.map { allSites[$0] })
    case .fedPGByzantineFilter(let configuration):
      next.roundsApplied += 1
      let filtered = try TitrateFederation.fedPGByzantineFilter(
        vectors, configuration: configuration)
      result = AggregationResult(
        step: filtered.aggregate, usedSiteNames: filtered.keptIndices.map { allSites[$0] })
    }
    state = next
    return result
  }
}
