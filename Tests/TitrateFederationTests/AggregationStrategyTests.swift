import Foundation
import Testing

@testable import TitrateFederation

@Suite struct AggregationStrategyTests {
  /// Strategies that accept 7 updates, for the shared edge cases.
  let strategiesForSeven: [AggregationStrategy] = [
    .federatedAveraging(weighting: .bySampleCount),
    .federatedAveraging(weighting: .uniform),
    .coordinateMedian,
    .trimmedMean(trimFraction: 0.15),
    .krum(byzantineCount: 1),
    .multiKrum(byzantineCount: 1, selectedCount: 3),
    .bulyan(byzantineCount: 1),
    .fedPGByzantineFilter(FedPGFilterConfiguration(varianceBound: 1)),
  ]

  @Test func uniformWeightingIgnoresSampleCounts() throws {
    // Uniform: ([1, 2] + [5, -2]) / 2 = [3, 0].
    // By samples: (1 * [1, 2] + 3 * [5, -2]) / 4 = [4, -1].
    let updates = siteUpdates([[1, 2], [5, -2]], samples: [1, 3])
    #expect(try averageDeltas(updates, weighting: .uniform) == [3, 0])
    #expect(try averageDeltas(updates, weighting: .bySampleCount) == [4, -1])
  }

  @Test func outlierMovesOnlyFedAvg() throws {
    // Six honest sites in the square [1, 2] x [1, 2] and one at [100, -100].
    let deltas: [[Double]] = [
      [1, 1], [1, 2], [2, 1], [2, 2], [1.5, 1.5], [1.5, 1.5], [100, -100],
    ]
    // FedAvg: (1 + 1 + 2 + 2 + 1.5 + 1.5 + 100) / 7 = 109 / 7 and
    // (1 + 2 + 1 + 2 + 1.5 + 1.5 - 100) / 7 = -91 / 7 = -13.
    let average = try aggregateOnce(.federatedAveraging(weighting: .uniform), deltas).step
    #expect(abs(average[0] - 109.0 / 7) < 1e-12)
    #expect(abs(average[1] + 13) < 1e-12)

    // Median: sorted 1, 1, 1.5, 1.5, 2, 2, 100 -> 1.5, and
    // sorted -100, 1, 1, 1.5, 1.5, 2, 2 -> 1.5.
    #expect(try aggregateOnce(.coordinateMedian, deltas).step == [1.5, 1.5])

    // Trimmed mean, beta = 0.15: k = floor(1.05) = 1 cut at each end.
    // (1 + 1.5 + 1.5 + 2 + 2) / 5 = 1.6 and (1 + 1 + 1.5 + 1.5 + 2) / 5 = 1.4.
    let trimmed = try aggregateOnce(.trimmedMean(trimFraction: 0.15), deltas).step
    #expect(abs(trimmed[0] - 1.6) < 1e-12)
    #expect(abs(trimmed[1] - 1.4) < 1e-12)

    // The selecting rules must leave out site s6 and stay in the square.
    let selecting: [AggregationStrategy] = [
      .krum(byzantineCount: 1), .multiKrum(byzantineCount: 1, selectedCount: 5),
      .bulyan(byzantineCount: 1), .fedPGByzantineFilter(FedPGFilterConfiguration(varianceBound: 1)),
    ]
    for strategy in selecting {
      let result = try aggregateOnce(strategy, deltas)
      #expect(!result.usedSiteNames.contains("s6"), "\(strategy) used the outlier")
      #expect(result.step.allSatisfy { (1...2).contains($0) }, "\(strategy) left the square")
    }
  }

  @Test func identicalUpdatesAggregateToThemselves() throws {
    let delta: [Double] = [2, -1, 0.5]
    for strategy in strategiesForSeven {
      let result = try aggregateOnce(strategy, Array(repeating: delta, count: 7))
      #expect(result.step == delta, "\(strategy)")
    }
  }

  @Test func zeroNormUpdatesAggregateToZero() throws {
    let zero: [Double] = [0, 0, 0]
    for strategy in strategiesForSeven {
      let result = try aggregateOnce(strategy, Array(repeating: zero, count: 7))
      #expect(result.step == zero, "\(strategy)")
      #expect(result.step.allSatisfy { $0.isFinite }, "\(strategy)")
    }
  }

  @Test func singleUpdateIsReturnedUnchanged() throws {
    let delta: [Double] = [0.125, -3.5, 1e-7]
    let single: [AggregationStrategy] = [
      .federatedAveraging(weighting: .bySampleCount), .federatedAveraging(weighting: .uniform),
      .coordinateMedian, .trimmedMean(trimFraction: 0.4),
      .fedPGByzantineFilter(FedPGFilterConfiguration()),
    ]
    for strategy in single {
      #expect(try aggregateOnce(strategy, [delta]).step == delta, "\(strategy)")
    }
    // Krum and Bulyan cannot work with one site, even with f = 0.
    #expect(throws: StrategyRoundError.self) {
      try aggregateOnce(.krum(byzantineCount: 0), [delta])
    }
    #expect(throws: StrategyRoundError.self) {
      try aggregateOnce(.bulyan(byzantineCount: 0), [delta])
    }
  }

  @Test func validationNamesValuesAndFix() {
    do {
      _ = try AggregationStrategy(validating: .bulyan(byzantineCount: 1), participantCount: 6)
      Issue.record("bulyan with n = 6, f = 1 was accepted")
    } catch {
      #expect(error.problems == [.tooFewSitesForBulyan(participantCount: 6, byzantineCount: 1)])
      #expect(error.description.contains("bulyan needs n >= 4f + 3: n = 6, f = 1"))
      #expect(error.description.contains("add sites to reach n = 7"))
    }
  }

  @Test func validationAcceptsEdgeSizes() throws {
    _ = try AggregationStrategy(validating: .bulyan(byzantineCount: 1), participantCount: 7)
    _ = try AggregationStrategy(validating: .krum(byzantineCount: 1), participantCount: 5)
    _ = try AggregationStrategy(
      validating: .multiKrum(byzantineCount: 1, selectedCount: 4), participantCount: 5)
    _ = try AggregationStrategy(validating: .trimmedMean(trimFraction: 0.49), participantCount: 2)
  }

  @Test func validationRejectsOneBelowEdge() {
    let cases: [(AggregationStrategy, Int, StrategyProblem)] = [
      (.krum(byzantineCount: 1), 4, .tooFewSitesForKrum(participantCount: 4, byzantineCount: 1)),
      (
        .bulyan(byzantineCount: 2), 10,
        .tooFewSitesForBulyan(participantCount: 10, byzantineCount: 2)
      ),
      (
        .multiKrum(byzantineCount: 1, selectedCount: 5), 5,
        .multiKrumSelectionOutOfRange(selectedCount: 5, participantCount: 5, byzantineCount: 1)
      ),
      (.trimmedMean(trimFraction: 0.5), 10, .trimFractionOutOfRange(trimFraction: 0.5)),
      (.krum(byzantineCount: -1), 10, .negativeByzantineCount(byzantineCount: -1)),
      (.coordinateMedian, 0, .noParticipants(participantCount: 0)),
    ]
    for (strategy, n, expected) in cases {
      #expect(throws: StrategyConfigurationError(problems: [expected])) {
        try AggregationStrategy(validating: strategy, participantCount: n)
      }
    }
  }

  @Test func validationCollectsEveryProblem() {
    let strategy = AggregationStrategy.adaptive(
      optimizer: .adam, weighting: .uniform,
      configuration: AdaptiveServerConfiguration(learningRate: -1, beta1: 1, beta2: 0.5, tau: 0))
    // Learning rate, beta1 and tau are invalid; beta2 is fine.
    #expect(strategy.problems(participantCount: 3).count == 3)
  }

  @Test func dropoutBelowBoundFailsRoundAndKeepsState() throws {
    let strategy = try AggregationStrategy(
      validating: .bulyan(byzantineCount: 1), participantCount: 7)
    var state = StrategyState()
    let six = siteUpdates(Array(repeating: [1.0], count: 6))
    #expect(
      throws: StrategyRoundError.boundViolated(
        .tooFewSitesForBulyan(participantCount: 6, byzantineCount: 1))
    ) {
      try strategy.aggregate(six, state: &state)
    }
    #expect(state == StrategyState())
  }

  @Test func mismatchedLengthsAreRejected() {
    var state = StrategyState()
    let updates = siteUpdates([[1, 2], [1, 2, 3]])
    #expect(throws: StrategyRoundError.mismatchedLength(siteName: "s1", received: 3, expected: 2)) {
      try AggregationStrategy.coordinateMedian.aggregate(updates, state: &state)
    }
  }
}
