import Foundation
import Testing

@testable import TitrateEnvironments

/// Baseline figures for Docs/environments/propofol.md: 100 patients (seed
/// 202), one 60 min episode, the shipped Schnider PK with Bouillon BIS
/// model, the Vanluchene 2004 BIS alternative, and the Eleveld 2018 PK. Runs only when PROPOFOL_FIGURES_OUTPUT
/// names a file for the table (about 3 s in a debug build):
///   PROPOFOL_FIGURES_OUTPUT=/tmp/figures.txt swift test --filter PropofolBaselineFiguresTests
@Suite struct PropofolBaselineFiguresTests {
  @Test func baselineFiguresWriteTable() throws {
    guard let output = ProcessInfo.processInfo.environment["PROPOFOL_FIGURES_OUTPUT"] else {
      return
    }
    var vanluchene = shippedPropofolDefinition
    vanluchene.bis = SigmoidEmaxBIS(
      baseline: 95.9, maximumEffect: 87.5, ce50MilligramsPerLiter: 4.92, hillCoefficient: 2.69)
    vanluchene.variability.ce50 = 0.34
    vanluchene.variability.hillCoefficient = 0.32
    var eleveld = shippedPropofolDefinition
    eleveld.pharmacokineticModel = .eleveld
    let columns = [
      "mdpePercent", "mdapePercent", "wobblePercent", "mdapeTrueBISPercent", "timeInRange",
      "timeBelowRange", "timeBelowBurstSuppression", "timeAboveRange",
      "timeBelowRangeWholeEpisode", "timeBelowBurstSuppressionWholeEpisode", "minimumTrueBIS",
      "inductionMinutes", "meanInfusionRateMicrogramsPerKilogramPerMinute",
    ]
    var lines = ["model baseline " + columns.map { "\($0)(mean/median)" }.joined(separator: " ")]
    for (label, definition) in [
      ("bouillon", shippedPropofolDefinition), ("vanluchene", vanluchene), ("eleveld", eleveld),
    ] {
      for baseline in ["pid", "constant_rate"] {
        let environment = try PropofolEnvironment(definition: definition, batchSize: 100)
        environment.automaticallyResets = false
        environment.recordsOutcomeTable = true
        _ = environment.reset(seed: 202)
        for _ in 0..<definition.dosing.decisionsPerEpisode {
          _ = environment.step(actions: try environment.baselineActions(named: baseline))
        }
        let table = environment.drainOutcomeTable()
        let cells = columns.map { column in
          let values = table[column: column]!
          return String(
            format: "%.3f/%.3f", table.mean(of: column)!, VarvelPerformance.median(values))
        }
        lines.append("\(label) \(baseline) " + cells.joined(separator: " "))
      }
    }
    try lines.joined(separator: "\n").write(toFile: output, atomically: true, encoding: .utf8)
  }
}
