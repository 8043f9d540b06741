import Foundation
import Testing

@testable import TitrateEnvironments

/// The grid search behind the shipped PID gains. It runs only when
/// PROPOFOL_TUNING_OUTPUT names a file for the results (about 15 s for the
/// 80 settings in a debug build):
///   PROPOFOL_TUNING_OUTPUT=/tmp/tuning.txt swift test --filter PropofolPIDTuningTests
/// Each line: feedforward, Kp, Ki, then the mean MDAPE (%), time in range
/// and MDPE (%) of 32 patients (seed 101) over one 60 min episode.
@Suite struct PropofolPIDTuningTests {
  @Test func gridSearchWritesTable() throws {
    guard let output = ProcessInfo.processInfo.environment["PROPOFOL_TUNING_OUTPUT"] else {
      return
    }
    var lines: [String] = []
    for feedforward in [80.0, 100.0, 120.0, 140.0, 160.0, 180.0] {
      for kp in [1.0, 2.0, 4.0, 8.0, 12.0] {
        for ki in [0.5, 1.0, 2.0, 4.0, 8.0] {
          var definition = shippedPropofolDefinition
          definition.pid = PropofolPIDDefinition(
            feedforwardRateMicrogramsPerKilogramPerMinute: feedforward, proportionalGain: kp,
            integralGainPerMinute: ki, derivativeGainMinutes: 0)
          let tally = try runPropofolBaseline(definition, "pid", patients: 32, seed: 101)
          lines.append(
            "\(feedforward) \(kp) \(ki) \(tally.mean("mdapePercent")!) "
              + "\(tally.mean("timeInRange")!) \(tally.mean("mdpePercent")!)")
        }
      }
    }
    try lines.joined(separator: "\n").write(toFile: output, atomically: true, encoding: .utf8)
  }
}

/// Runs one episode of a baseline on `patients` sampled patients and
/// returns the outcome tally.
func runPropofolBaseline(
  _ definition: PropofolDefinition, _ baseline: String, patients: Int, seed: UInt64
) throws -> EpisodeOutcomeTally {
  let environment = try PropofolEnvironment(definition: definition, batchSize: patients)
  environment.automaticallyResets = false
  _ = environment.reset(seed: seed)
  for _ in 0..<definition.dosing.decisionsPerEpisode {
    _ = environment.step(actions: try environment.baselineActions(named: baseline))
  }
  return environment.drainEpisodeOutcomes()
}
