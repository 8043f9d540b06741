import Foundation
import Testing

@testable import TitrateFederation

/// Builds updates named s0, s1, ... with the given deltas and, by default,
/// one sample each.
func siteUpdates(_ deltas: [[Double]], samples: [Int]? = nil) -> [ModelUpdate] {
  deltas.enumerated().map { index, delta in
    ModelUpdate(
      siteName: "s\(index)", round: 1, delta: delta, sampleCount: samples?[index] ?? 1)
  }
}

/// Aggregates one round from a fresh state.
func aggregateOnce(_ strategy: AggregationStrategy, _ deltas: [[Double]]) throws
  -> AggregationResult
{
  var state = StrategyState()
  return try strategy.aggregate(siteUpdates(deltas), state: &state)
}

@Suite struct RobustStrategyTests {
  @Test func medianOfOddCount() {
    // Coordinate 0: sorted 1, 2, 3 -> 2. Coordinate 1: sorted -1, 5, 100 -> 5.
    #expect(coordinateMedian([[1, 5], [3, -1], [2, 100]]) == [2, 5])
  }

  @Test func medianOfEvenCountAveragesMiddlePair() {
    // Sorted 1, 2, 4, 10: the middle pair is 2 and 4, so (2 + 4) / 2 = 3.
    #expect(coordinateMedian([[1], [4], [2], [10]]) == [3])
  }

  @Test func medianWithTies() {
    // Sorted 1, 7, 7, 9: middle pair 7 and 7 -> 7.
    #expect(coordinateMedian([[7], [7], [1], [9]]) == [7])
    // Sorted -100, 3, 3, 3: middle pair 3 and 3 -> 3.
    #expect(coordinateMedian([[3], [3], [3], [-100]]) == [3])
  }

  @Test func medianOfHugeValuesDoesNotOverflow() {
    // (a + b) / 2 would overflow to infinity; a / 2 + b / 2 does not.
    let huge = Double.greatestFiniteMagnitude
    #expect(coordinateMedian([[huge], [huge]]) == [huge])
  }

  @Test func trimmedMeanCutsEachEnd() throws {
    // beta = 0.2, n = 5: k = floor(1.0) = 1 value cut at each end.
    // Coordinate 0: sorted 1, 2, 3, 4, 100 -> (2 + 3 + 4) / 3 = 3.
    // Coordinate 1: sorted -30, 10, 20, 40, 50 -> (10 + 20 + 40) / 3 = 70 / 3.
    let result = try trimmedMean(
      [[1, 10], [2, 20], [3, -30], [4, 40], [100, 50]], trimFraction: 0.2)
    #expect(result[0] == 3)
    #expect(abs(result[1] - 70.0 / 3) < 1e-12)
  }

  @Test func trimmedMeanWithTies() throws {
    // beta = 0.2, n = 5, k = 1: sorted 1, 5, 5, 5, 9 -> (5 + 5 + 5) / 3 = 5.
    #expect(try trimmedMean([[5], [5], [5], [1], [9]], trimFraction: 0.2) == [5])
  }

  @Test func trimmedMeanWithSmallBetaIsPlainMean() throws {
    // beta = 0.1, n = 5: k = floor(0.5) = 0, so (1 + 2 + 3 + 4 + 100) / 5 = 22.
    #expect(try trimmedMean([[1], [2], [3], [4], [100]], trimFraction: 0.1) == [22])
  }

  @Test func trimmedCountAbsorbsRounding() {
    // 0.29 * 100 is 28.999999999999996 in binary floating point.
    #expect(trimmedCount(trimFraction: 0.29, participantCount: 100) == 29)
    #expect(trimmedCount(trimFraction: 0.49, participantCount: 100) == 49)
    #expect(trimmedCount(trimFraction: 0.49, participantCount: 2) == 0)
  }

  @Test func trimmedMeanRejectsBetaThatLeavesNothing() {
    for beta in [0.5, 0.7, -0.1, Double.nan] {
      #expect(throws: StrategyRoundError.self) {
        try trimmedMean([[1], [2]], trimFraction: beta)
      }
    }
  }

  @Test func krumScoresOnHandWorkedLine() throws {
    // n = 5, f = 1: each score sums the n - f - 2 = 2 smallest squared
    // distances to the other points.
    // 0: 1 (to 1) + 4 (to 2) = 5;   1: 1 + 1 = 2;   2: 1 + 1 = 2;
    // 3: 1 (to 2) + 4 (to 1) = 5;   100: 97^2 + 98^2 = 9409 + 9604 = 19013.
    let points: [[Double]] = [[0], [1], [2], [3], [100]]
    let selection = try multiKrum(points, byzantineCount: 1, selectedCount: 1)
    #expect(selection.scores == [5, 2, 2, 5, 19013])
    // Points 1 and 2 tie at 2; the lower index wins.
    #expect(selection.selectedIndices == [1])
    #expect(selection.aggregate == [1])
  }

  @Test func multiKrumAveragesLowestScores() throws {
    // Scores as above: [5, 2, 2, 5, 19013]. m = 3 keeps indices 1, 2 and 0
    // (0 and 3 tie at 5, the lower index wins): (1 + 2 + 0) / 3 = 1.
    let points: [[Double]] = [[0], [1], [2], [3], [100]]
    let three = try multiKrum(points, byzantineCount: 1, selectedCount: 3)
    #expect(three.selectedIndices == [1, 2, 0])
    #expect(three.aggregate == [1])
    // m = n - f = 4 adds index 3: (1 + 2 + 0 + 3) / 4 = 1.5.
    let four = try multiKrum(points, byzantineCount: 1, selectedCount: 4)
    #expect(four.selectedIndices == [1, 2, 0, 3])
    #expect(four.aggregate == [1.5])
  }

  @Test func krumBoundAtEdgeSizes() throws {
    // f = 1 needs n > 2f + 2 = 4: n = 5 works, n = 4 is rejected.
    _ = try multiKrum([[0], [1], [2], [3], [4]], byzantineCount: 1, selectedCount: 1)
    #expect(
      throws: StrategyRoundError.boundViolated(
        .tooFewSitesForKrum(participantCount: 4, byzantineCount: 1))
    ) {
      try multiKrum([[0], [1], [2], [3]], byzantineCount: 1, selectedCount: 1)
    }
  }

  @Test func multiKrumRejectsSelectionOutsideRange() {
    let points: [[Double]] = [[0], [1], [2], [3], [4]]
    for m in [0, 5] {
      #expect(
        throws: StrategyRoundError.boundViolated(
          .multiKrumSelectionOutOfRange(selectedCount: m, participantCount: 5, byzantineCount: 1))
      ) {
        try multiKrum(points, byzantineCount: 1, selectedCount: m)
      }
    }
  }

  @Test func bulyanOnHandWorkedLine() throws {
    // n = 7, f = 1 (exactly 4f + 3): theta = n - 2f = 5 picks, beta =
    // theta - 2f = 1 value averaged per coordinate. Points 0...5 and 1000.
    // Pick 1, 4 neighbours: scores 0:30 1:15 2:10 3:10 4:15 5:30 -> index 2
    //   (ties with 3, lower index wins).
    // Pick 2, left {0,1,3,4,5,1000}, 3 neighbours: 0:26 1:14 3:9 4:11 5:21 -> 3.
    // Pick 3, left {0,1,4,5,1000}, 2 neighbours: 0:17 1:10 4:10 5:17 -> 1.
    // Pick 4, left {0,4,5,1000}, 1 neighbour: 0:16 4:1 5:1 -> 4.
    // Pick 5, left {0,5,1000}, max(1, 3 - 3) = 1 neighbour: 0:25 5:25 -> 0.
    // Selected values 2, 3, 1, 4, 0: median 2, and the 1 value closest is 2.
    let points: [[Double]] = [[0], [1], [2], [3], [4], [5], [1000]]
    let selection = try bulyan(points, byzantineCount: 1)
    #expect(selection.selectedIndices == [2, 3, 1, 4, 0])
    #expect(selection.aggregate == [2])
  }

  @Test func bulyanAveragesValuesClosestToMedian() throws {
    // f = 0: theta = beta = n, so Bulyan is the mean: (1 + 2 + 6) / 3 = 3.
    #expect(try bulyan([[1], [2], [6]], byzantineCount: 0).aggregate == [3])
  }

  @Test func bulyanBoundAtEdgeSizes() throws {
    // f = 1 needs n >= 4f + 3 = 7: n = 7 works (above), n = 6 is rejected.
    let six: [[Double]] = [[0], [1], [2], [3], [4], [5]]
    #expect(
      throws: StrategyRoundError.boundViolated(
        .tooFewSitesForBulyan(participantCount: 6, byzantineCount: 1))
    ) {
      try bulyan(six, byzantineCount: 1)
    }
    // f = 0 needs n >= 3.
    #expect(throws: StrategyRoundError.self) { try bulyan([[0], [1]], byzantineCount: 0) }
  }

  @Test func fedPGFilterKeepsClusterUnderTightRule() throws {
    // K = 4, delta = 8 / e^3 gives V = 2 ln(2K / delta) = 6, and B = 24
    // gives T = 2 sigma sqrt(6 / 24) = sigma = 1. Within 1 (self included):
    // 0, 0.5 and 0.8 each have 3 > K / 2 neighbours, 10 has 1. The
    // candidates' mean is 1.3 / 3 = 0.433; the closest candidate is 0.5,
    // and 0, 0.5, 0.8 lie within 1 of it. alpha = 0.25 requires at least
    // (1 - 0.25) * 4 = 3 kept, so rule R1 applies: mean 1.3 / 3.
    let configuration = FedPGFilterConfiguration(
      varianceBound: 1, confidence: 8 / exp(3), byzantineFraction: 0.25,
      trajectoriesPerUpdate: 24)
    #expect(abs(configuration.tightRadius(updateCount: 4) - 1) < 1e-12)
    let result = try fedPGByzantineFilter([[0], [0.5], [0.8], [10]], configuration: configuration)
    #expect(result.keptIndices == [0, 1, 2])
    #expect(result.rule == .tight)
    #expect(abs(result.aggregate[0] - 1.3 / 3) < 1e-12)
  }

  @Test func fedPGFilterFallsBackToLooseRule() throws {
    // Same T = 1 and sigma = 1. Within 1: 0 has 1 neighbour, 1.5 and 1.6
    // have 2 (not > 2), 10 has 1, so R1 finds no candidate. R2 with radius
    // 2 sigma = 2: 0, 1.5, 1.6 each have 3; mean 3.1 / 3 = 1.033, closest
    // candidate 1.5, and 0, 1.5, 1.6 lie within 2 of it: mean 3.1 / 3.
    let configuration = FedPGFilterConfiguration(
      varianceBound: 1, confidence: 8 / exp(3), byzantineFraction: 0.25,
      trajectoriesPerUpdate: 24)
    let result = try fedPGByzantineFilter([[0], [1.5], [1.6], [10]], configuration: configuration)
    #expect(result.keptIndices == [0, 1, 2])
    #expect(result.rule == .loose)
    #expect(result.radius == 2)
    #expect(abs(result.aggregate[0] - 3.1 / 3) < 1e-12)
  }

  @Test func fedPGFilterNeedsEnoughKeptForTightRule() throws {
    // The cluster of the first test with alpha = 0: R1 keeps 3 < 4, so R2
    // (radius 2) decides, and it keeps the same three.
    let configuration = FedPGFilterConfiguration(
      varianceBound: 1, confidence: 8 / exp(3), byzantineFraction: 0, trajectoriesPerUpdate: 24)
    let result = try fedPGByzantineFilter([[0], [0.5], [0.8], [10]], configuration: configuration)
    #expect(result.rule == .loose)
    #expect(result.keptIndices == [0, 1, 2])
  }

  @Test func fedPGFilterRejectingAllThrows() {
    // Points 5 apart: no point has a majority within 2 sigma = 2.
    let configuration = FedPGFilterConfiguration(
      varianceBound: 1, confidence: 0.6, byzantineFraction: 0.25, trajectoriesPerUpdate: 16)
    #expect(throws: StrategyRoundError.filterRejectedAll(updateCount: 4, looseRadius: 2)) {
      try fedPGByzantineFilter([[0], [5], [10], [15]], configuration: configuration)
    }
  }
}
