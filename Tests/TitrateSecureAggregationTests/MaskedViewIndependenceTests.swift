import Testing
import TitrateSodium

@testable import TitrateSecureAggregation

/// The server's view of one site's masked input does not depend on the
/// input: for an all-zero and an all-maximum input, the masked words are
/// uniform and the two samples are alike.
@Suite struct MaskedViewIndependenceTests {
  static let binCount = 16
  /// Chi-square critical value for 15 degrees of freedom at significance
  /// 0.001: scipy.stats.chi2.ppf(0.999, 15) = 37.697 (scipy 1.x).
  static let criticalValue = 37.697

  /// Counts of the words' top 4 bits (words below 2^16).
  func histogram(_ words: [UInt64]) -> [Double] {
    var counts = [Double](repeating: 0, count: Self.binCount)
    for word in words { counts[Int(word >> 12)] += 1 }
    return counts
  }

  func uniformityStatistic(_ counts: [Double]) -> Double {
    let expected = counts.reduce(0, +) / Double(counts.count)
    return counts.reduce(0) { $0 + ($1 - expected) * ($1 - expected) / expected }
  }

  /// Pearson's chi-square for a 2 x B table of two samples of equal size.
  func homogeneityStatistic(_ first: [Double], _ second: [Double]) -> Double {
    var statistic = 0.0
    for (a, b) in zip(first, second) where a + b > 0 {
      let expected = (a + b) / 2
      statistic += (a - expected) * (a - expected) / expected
      statistic += (b - expected) * (b - expected) / expected
    }
    return statistic
  }

  func maskedView(ofSite0Input input: [UInt64], seed: UInt64) throws -> [UInt64] {
    let length = input.count
    var data: [UInt32: [UInt64]?] = [0: input]
    for site in 1..<UInt32(4) { data[site] = [UInt64](repeating: 7, count: length) }
    let configuration = SecureAggregationConfiguration(
      threshold: 2, quantizationBits: 14, modulusBits: 16)
    let outcome = simulateSecureAggregationRound(
      round: 1, inputs: data, vectorLength: length, configuration: configuration,
      randomness: .seeded(seed))
    _ = try outcome.result.get()
    return outcome.serverView[0]!
  }

  @Test func maskedWordsLookTheSameForOppositeInputs() throws {
    let length = 4096
    let zeros = [UInt64](repeating: 0, count: length)
    let maxima = [UInt64](repeating: (1 << 14) - 1, count: length)
    let zeroView = histogram(try maskedView(ofSite0Input: zeros, seed: 41))
    let maximumView = histogram(try maskedView(ofSite0Input: maxima, seed: 42))
    #expect(uniformityStatistic(zeroView) < Self.criticalValue)
    #expect(uniformityStatistic(maximumView) < Self.criticalValue)
    #expect(homogeneityStatistic(zeroView, maximumView) < Self.criticalValue)
  }

  /// The same statistics on the unmasked inputs exceed the critical value
  /// by far, so the test above can fail.
  @Test func statisticsDetectUnmaskedInputs() {
    let length = 4096
    let zeros = histogram([UInt64](repeating: 0, count: length))
    let maxima = histogram([UInt64](repeating: (1 << 14) - 1, count: length))
    #expect(uniformityStatistic(zeros) > 100 * Self.criticalValue)
    // Two samples in disjoint bins give the largest value, the total count.
    #expect(homogeneityStatistic(zeros, maxima) == Double(2 * length))
  }
}
