import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the Kovatchev risk function and the glycaemic summary against
/// hand-worked values.
@Suite struct GlucoseMetricsTests {
  /// (BG mg/dL, risk) worked by hand from f = 1.509 [(ln BG)^1.084 - 5.381]
  /// and risk = 10 f^2.
  static let riskCases: [(Double, Double)] = [
    (20, 100.04), (50, 22.50), (70, 7.755), (180, 7.729), (250, 22.44), (400, 57.05),
    (600, 99.95),
  ]

  @Test func riskMatchesHandWorkedValues() {
    for (glucose, expected) in Self.riskCases {
      let risk = GlycemicRisk.risk(milligramsPerDeciliter: glucose)
      #expect(abs(risk - expected) < 0.01, "BG \(glucose): risk \(risk)")
    }
  }

  @Test func riskIsZeroNearSymmetryPoint() {
    #expect(GlycemicRisk.risk(milligramsPerDeciliter: 112.5) < 1e-5)
    #expect(GlycemicRisk.symmetrized(milligramsPerDeciliter: 100) < 0)
    #expect(GlycemicRisk.symmetrized(milligramsPerDeciliter: 125) > 0)
  }

  @Test func riskSaturatesOutsideMeterRange() {
    let atLowerEnd = GlycemicRisk.risk(milligramsPerDeciliter: 20)
    #expect(GlycemicRisk.risk(milligramsPerDeciliter: 5) == atLowerEnd)
    #expect(GlycemicRisk.risk(milligramsPerDeciliter: 0) == atLowerEnd)
    #expect(GlycemicRisk.risk(milligramsPerDeciliter: -3) == atLowerEnd)
    let atUpperEnd = GlycemicRisk.risk(milligramsPerDeciliter: 600)
    #expect(GlycemicRisk.risk(milligramsPerDeciliter: 900) == atUpperEnd)
  }

  @Test func indicesAverageOverAllSamples() {
    // One low and one high sample: each index is half its sample's risk,
    // not the whole risk as a mean over only its own side would give.
    let summary = GlycemicSummary(milligramsPerDeciliter: [50, 250])
    #expect(abs(summary.lowBloodGlucoseIndex - 22.50 / 2) < 0.01)
    #expect(abs(summary.highBloodGlucoseIndex - 22.44 / 2) < 0.01)
    #expect(abs(summary.riskIndex - (22.50 + 22.44) / 2) < 0.01)
  }

  @Test func timeFractionsUseConsensusBounds() {
    // 70 and 180 are in range; 54 is below 70 but not below 54; 250 is
    // above 180 but not above 250.
    let samples: [Double] = [40, 54, 70, 100, 180, 181, 250, 251]
    let summary = GlycemicSummary(milligramsPerDeciliter: samples)
    #expect(summary.timeInRange == 3.0 / 8)
    #expect(summary.timeBelow70 == 2.0 / 8)
    #expect(summary.timeBelow54 == 1.0 / 8)
    #expect(summary.timeAbove180 == 3.0 / 8)
    #expect(summary.timeAbove250 == 1.0 / 8)
    #expect(summary.meanMilligramsPerDeciliter == samples.reduce(0, +) / 8)
  }
}
