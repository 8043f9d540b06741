import Testing

@testable import TitrateEvaluation

@Suite struct StatisticsTests {
  @Test func quantileMatchesNumPyLinear() {
    // numpy.quantile([3, 1, 4, 1, 5], [0, 0.25, 0.5, 0.9, 1]) = [1, 1, 3, 4.6, 5]
    let sample: [Double] = [3, 1, 4, 1, 5]
    #expect(quantile(sample, 0) == 1)
    #expect(quantile(sample, 0.25) == 1)
    #expect(quantile(sample, 0.5) == 3)
    #expect(abs(quantile(sample, 0.9) - 4.6) < 1e-12)
    #expect(quantile(sample, 1) == 5)
  }

  @Test func quantileOfSingleValue() {
    #expect(quantile([7], 0.3) == 7)
  }

  @Test func wilsonIntervalMatchesReference() {
    // Wilson score interval for 8 of 10, z = 1.959964, evaluated by hand
    // in Python: (0.4901625, 0.9433178).
    let interval = Proportion(events: 8, total: 10).wilsonInterval
    #expect(abs(interval.lower - 0.4901625) < 1e-6)
    #expect(abs(interval.upper - 0.9433178) < 1e-6)
  }

  @Test func wilsonIntervalAtZeroEvents() {
    // 0 of 100: upper bound z^2 / (n + z^2) = 0.0369935.
    let interval = Proportion(events: 0, total: 100).wilsonInterval
    #expect(interval.lower == 0)
    #expect(abs(interval.upper - 0.0369935) < 1e-6)
  }

  @Test func distributionSummaryOfRange() {
    let summary = DistributionSummary((0...100).map(Double.init))
    #expect(summary.p05 == 5)
    #expect(summary.median == 50)
    #expect(summary.p95 == 95)
  }
}
