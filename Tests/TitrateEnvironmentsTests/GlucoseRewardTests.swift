import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the glucose step reward and cost against values worked by hand,
/// the validation of the optional reward fields, and that an episode's
/// cost counts the steps below the chosen threshold.
@Suite struct GlucoseRewardTests {
  /// Returns the shipped weights (1 in range, 0.01 x risk, 1 below range)
  /// with the given optional fields.
  static func reward(lowRisk: Double?, costThreshold: Double?) -> GlucoseRewardDefinition {
    var reward = glucoseDefinition.reward
    reward.lowRiskPenaltyPerStep = lowRisk
    reward.costThresholdMilligramsPerDeciliter = costThreshold
    return reward
  }

  /// Returns the shipped tree with `change` applied to the `reward` section.
  static func treeChangingReward(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
    var tree = GlucoseDefinitionTests.shippedTree()
    var reward = tree["reward"] as! [String: Any]
    change(&reward)
    tree["reward"] = reward
    return tree
  }

  @Test func shippedRewardWeights() {
    let reward = glucoseDefinition.reward
    #expect(reward.inRangeRewardPerStep == 1)
    #expect(reward.riskPenaltyPerStep == 0.01)
    #expect(reward.belowRangePenaltyPerStep == 1)
    #expect(reward.lowRiskPenaltyPerStep == 0.05)
    #expect(reward.costThresholdMilligramsPerDeciliter == nil)
  }

  @Test func rewardWithoutLowRiskWeight() {
    let reward = Self.reward(lowRisk: nil, costThreshold: nil)
    // f = -0.5 gives risk 10 x 0.25 = 2.5, in range: 1 - 0.01 x 2.5 = 0.975.
    #expect(abs(reward.stepReward(bloodGlucose: 100, symmetrized: -0.5) - 0.975) < 1e-12)
    // f = -1 gives risk 10, below range: 0 - 0.1 - 1 = -1.1.
    #expect(abs(reward.stepReward(bloodGlucose: 60, symmetrized: -1) - -1.1) < 1e-12)
    // f = 1 gives risk 10, above range: 0 - 0.1 = -0.1.
    #expect(abs(reward.stepReward(bloodGlucose: 200, symmetrized: 1) - -0.1) < 1e-12)
  }

  @Test func lowRiskWeightOnlyBelowTarget() {
    let reward = Self.reward(lowRisk: 0.1, costThreshold: nil)
    // f = -0.5, in range: 1 - 0.025 - 0.1 x 2.5 = 0.725.
    #expect(abs(reward.stepReward(bloodGlucose: 100, symmetrized: -0.5) - 0.725) < 1e-12)
    // f = -1, below range: 0 - 0.1 - 0.1 x 10 - 1 = -2.1.
    #expect(abs(reward.stepReward(bloodGlucose: 60, symmetrized: -1) - -2.1) < 1e-12)
    // f = 1, above range: the low weight does not apply, -0.1.
    #expect(abs(reward.stepReward(bloodGlucose: 200, symmetrized: 1) - -0.1) < 1e-12)
  }

  @Test func rewardAtFiftyFourMilligrams() {
    // f(54) = 1.509 (ln(54)^1.084 - 5.381) = -1.35873 and risk 18.4614,
    // from the Kovatchev 1997 formula computed outside Swift.
    let f = GlycemicRisk.symmetrized(milligramsPerDeciliter: 54)
    #expect(abs(f - -1.35873) < 1e-4)
    let reward = Self.reward(lowRisk: 0.05, costThreshold: nil)
    // 0 - 0.01 x 18.4614 - 0.05 x 18.4614 - 1 = -2.10768.
    #expect(abs(reward.stepReward(bloodGlucose: 54, symmetrized: f) - -2.10768) < 1e-4)
  }

  @Test func costCountsStepsBelowTheThreshold() {
    let atRangeEdge = Self.reward(lowRisk: nil, costThreshold: nil)
    #expect(atRangeEdge.costThreshold == 70)
    #expect(atRangeEdge.stepCost(bloodGlucose: 69.9) == 1)
    #expect(atRangeEdge.stepCost(bloodGlucose: 70) == 0)
    let severe = Self.reward(lowRisk: nil, costThreshold: 54)
    #expect(severe.stepCost(bloodGlucose: 60) == 0)
    #expect(severe.stepCost(bloodGlucose: 53.9) == 1)
  }

  @Test func outOfRangeLowRiskWeightIsRejected() throws {
    let found = GlucoseDefinitionTests.issues(
      Self.treeChangingReward { $0["lowRiskPenaltyPerStep"] = 2.0 })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["reward.lowRiskPenaltyPerStep"])
    #expect(issues.first?.message.hasPrefix("is 2, but must be in [0, 1]") == true)
  }

  @Test func costThresholdAboveTheRangeIsRejected() throws {
    let found = GlucoseDefinitionTests.issues(
      Self.treeChangingReward { $0["costThresholdMilligramsPerDeciliter"] = 80.0 })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["reward.costThresholdMilligramsPerDeciliter"])
    #expect(issues.first?.message.hasPrefix("is 80, but must be in [40, 70] mg/dL") == true)
  }

  @Test func optionalFieldsLoad() throws {
    let tree = Self.treeChangingReward {
      $0["lowRiskPenaltyPerStep"] = 0.05
      $0["costThresholdMilligramsPerDeciliter"] = 54.0
    }
    #expect(GlucoseDefinitionTests.issues(tree) == nil)
  }

  @Test func episodeCostIsTimeBelowThreshold() {
    // Twice the baseline insulin drives many patients below 54 mg/dL.
    var definition = glucoseDefinition
    definition.reward.costThresholdMilligramsPerDeciliter = 54
    let table = GlucoseEnvironmentTests.runEpisode(
      definition: definition, group: .children, batchSize: 10, action: 2)
    let steps = Double(24 * 60 / definition.sensor.sampleMinutes)
    let costs = table[column: "episodeCost"]!
    let below54 = table[column: "timeBelow54"]!
    #expect(costs.contains { $0 > 0 })
    for (cost, fraction) in zip(costs, below54) {
      #expect(abs(cost - fraction * steps) < 1e-9)
    }
  }
}
