import Foundation
import Testing

@testable import TitrateEnvironments

/// Decodes the shipped propofol file after replacing `reward` entries (a
/// nil value removes the entry).
private func decodeShippedPropofol(reward changes: [String: Any?]) throws -> PropofolDefinition {
  let url = repositoryRoot.appendingPathComponent("Environments/pkpd/propofol.json")
  var tree = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
  var reward = tree["reward"] as! [String: Any]
  for (key, value) in changes { reward[key] = value }
  tree["reward"] = reward
  return try PropofolDefinition.decode(from: JSONSerialization.data(withJSONObject: tree))
}

@Suite struct PropofolRewardTests {
  /// Without the field the penalty is 0, so old files keep their reward.
  @Test func absentPenaltyIsZero() throws {
    let definition = try decodeShippedPropofol(reward: ["absoluteErrorPenalty": nil])
    #expect(definition.reward.absoluteErrorPenalty == nil)
    #expect(definition.reward.effectiveAbsoluteErrorPenalty == 0)
  }

  @Test func negativePenaltyRejected() throws {
    do {
      _ = try decodeShippedPropofol(reward: ["absoluteErrorPenalty": -0.1])
      Issue.record("a negative absoluteErrorPenalty was accepted")
    } catch let error as EnvironmentDefinitionError {
      #expect(error.issues.map(\.path).contains("reward.absoluteErrorPenalty"))
    }
  }

  /// No drug keeps the true BIS at E0 = 97.4, so |PE| = (97.4 - 50) / 50 =
  /// 0.948 at every grid point. Reward per decision with penalty 0.2:
  /// 0 x 1 - 0.5 x 1 - 0.2 x 0.948 = -0.6896, so 60 decisions give -41.376.
  @Test func noDrugReturnByHand() throws {
    var definition = shippedPropofolDefinition
    definition.measurement.noiseStandardDeviation = 0
    definition.measurement.delaySeconds = 0
    definition.reward.performanceStartMinutes = 0
    definition.reward.absoluteErrorPenalty = 0.2
    definition.dosing.episodeMinutes = 5
    definition.dosing.inductionBolusMilligramsPerKilogram = 0
    let environment = try PropofolEnvironment(definition: definition, batchSize: 2)
    environment.automaticallyResets = false
    _ = environment.reset(seed: 3)
    let first = environment.step(actions: [0, 0])
    #expect(abs(Double(first.rewards[0]) + 0.6896) < 1e-6)
    for _ in 1..<60 { _ = environment.step(actions: [0, 0]) }
    let tally = environment.drainEpisodeOutcomes()
    #expect(abs(tally.mean("episodeReturn")! + 41.376) < 1e-9)
  }
}
