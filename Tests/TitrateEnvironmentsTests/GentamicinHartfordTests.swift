import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the Hartford level-to-interval chart of the gentamicin file on
/// hand-worked levels, and the baseline built on it.
@Suite struct GentamicinHartfordTests {
  static let definition = loadLinearDefinition(gentamicinDefinitionURL)
  static var hartford: LinearBaselineDefinition { definition.baselines[0] }

  /// Hand-worked from the boundary lines 11.887 - 0.7175 t (q24h),
  /// 17.335 - 1.0558 t (q36h) and 19.509 - 1.0846 t (q48h): at 10 h they
  /// are at 4.712, 6.777 and 8.663 mg/L; at 8 h the q24h line is at
  /// 7.582 + (1.842 - 7.582) x 2 / 8 = 6.147 mg/L.
  static let cases: [(levelMilligramsPerLiter: Double, hours: Double, intervalHours: Double)] = [
    (4.0, 10, 24), (4.71, 10, 24), (4.72, 10, 36), (6.7, 10, 36), (6.8, 10, 48),
    (8.6, 10, 48), (8.7, 10, 72), (7.5, 6, 24), (7.7, 6, 36), (1.8, 14, 24),
    (1.9, 14, 36), (6.1, 8, 24), (6.2, 8, 36),
  ]

  @Test(arguments: cases.indices)
  func chartSelectsHandWorkedInterval(case index: Int) {
    let entry = Self.cases[index]
    let interval = Self.hartford.chartInterval(
      level: entry.levelMilligramsPerLiter, atHours: entry.hours)
    #expect(
      interval == entry.intervalHours,
      "level \(entry.levelMilligramsPerLiter) at \(entry.hours) h")
  }

  @Test func boundaryLinesMatchLoveringReevesReading() {
    let line = Self.hartford.boundaries![0]
    // The letter reads 7.6 mg/L at 6 h and 2.0 mg/L at 14 h off the chart.
    #expect(abs(line.level(atHours: 6) - 7.6) < 0.05)
    #expect(abs(line.level(atHours: 14) - 2.0) < 0.2)
  }

  /// With the residual error off, the baseline's interval is the chart's
  /// interval for the true 10-h level, kept for the whole episode, and its
  /// dose is always 7 mg/kg.
  @Test func baselineReadsTenHourLevelOnce() throws {
    var definition = Self.definition
    definition.model.residualError.additiveMilligramsPerLiter = 0
    definition.model.residualError.proportional = 0
    let environment = try LinearEnvironment(definition: definition, batchSize: 16)
    environment.automaticallyResets = false
    environment.recordsOutcomeTable = true
    _ = environment.reset(seed: 3)
    let firstLevels = environment.measuredLevels.map { $0[1] }
    let expected = firstLevels.map { Self.hartford.chartInterval(level: $0, atHours: 10)! }
    for _ in 0..<definition.dosing.decisionsPerEpisode {
      _ = environment.step(actions: try environment.baselineActions(named: "hartford"))
    }
    let table = environment.drainOutcomeTable()
    for cycle in 1...definition.dosing.decisionsPerEpisode {
      #expect(table[column: "cycle\(cycle)IntervalHours"] == expected)
    }
    for (p, patient) in environment.patients.enumerated() {
      let dose = min((7 * patient.covariates.weightKilograms / 10).rounded() * 10, 1000)
      #expect(table[column: "cycle2DoseMilligrams"]?[p] == dose)
    }
    #expect(Set(expected).count > 1, "the seed should give patients on several intervals")
  }

  @Test func unknownBaselineIsRejected() throws {
    let environment = try LinearEnvironment(definition: Self.definition, batchSize: 1)
    #expect(throws: BaselineError.self) {
      _ = try environment.baselineActions(named: "sawchuk_zaske")
    }
  }
}
