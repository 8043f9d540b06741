import Testing

@testable import TitrateEnvironments

@Suite struct PropofolMetricsTests {
  /// BIS 40, 45, 50, 55, 70 against target 50: PE = -20, -10, 0, 10, 40 %.
  /// MDPE = median(PE) = 0; MDAPE = median(20, 10, 0, 10, 40) = 10;
  /// wobble = median(|PE - 0|) = 10.
  @Test func varvelOddCountByHand() throws {
    let result = try #require(VarvelPerformance(values: [40, 45, 50, 55, 70], target: 50))
    #expect(result.medianPerformanceErrorPercent == 0)
    #expect(result.medianAbsolutePerformanceErrorPercent == 10)
    #expect(result.wobblePercent == 10)
  }

  /// BIS 60, 60, 65, 40 against 50: PE = 20, 20, 30, -20 %. Sorted
  /// -20, 20, 20, 30, so MDPE = 20; |PE| sorted 20, 20, 20, 30 gives
  /// MDAPE = 20; |PE - 20| = 0, 0, 10, 40 gives wobble = (0 + 10) / 2 = 5.
  @Test func varvelEvenCountByHand() throws {
    let result = try #require(VarvelPerformance(values: [60, 60, 65, 40], target: 50))
    #expect(abs(result.medianPerformanceErrorPercent - 20) < 1e-12)
    #expect(abs(result.medianAbsolutePerformanceErrorPercent - 20) < 1e-12)
    #expect(abs(result.wobblePercent - 5) < 1e-12)
  }

  @Test func varvelEmptyIsNil() {
    #expect(VarvelPerformance(values: [], target: 50) == nil)
  }
}
