import Foundation
import Testing
import TitratePKPD

@testable import TitrateEnvironments

/// The untreated term of the safety cost and its outcome column: a patient
/// whose day-3 AUC24 stays below 200 mg h/L costs 1 at the episode end.
@Suite struct UntreatedCostTests {
  @Test func withheldTherapyCostsOne() throws {
    #expect(shippedDefinition.cost.perEpisodeUntreated == 1)
    #expect(shippedDefinition.cost.untreatedDailyAUCMilligramHoursPerLiter == 200)
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: 2)
    environment.recordsOutcomeTable = true
    environment.automaticallyResets = false
    _ = environment.reset(seed: 4)
    try environment.setPatients([makePatient(), makePatient()])
    var costs: [[Float]] = []
    // Patient 0 gets nothing. Patient 1 gets 1000 mg every 12 h, which
    // keeps Goti's typical patient well above the untreated level.
    for _ in 0..<6 { costs.append(environment.step(actions: [0, 4]).costs) }
    let table = environment.drainOutcomeTable()
    let day3 = try #require(table[column: "day3AUC"])
    #expect(day3[0] == 0)
    #expect(day3[1] > 200)
    #expect(table[column: "lastDayUntreated"] == [1, 0])
    // The cost arrives in the last step only, once.
    #expect(costs.map { $0[0] } == [0, 0, 0, 0, 0, 1])
    #expect(table[column: "episodeCost"] == [1, 0])
  }

  @Test func absentFieldsMeanNoUntreatedCost() throws {
    var tree = shippedJSONTree()
    var cost = tree["cost"] as! [String: Any]
    cost["perEpisodeUntreated"] = nil
    cost["untreatedDailyAUCMilligramHoursPerLiter"] = nil
    tree["cost"] = cost
    let definition = try EnvironmentDefinition.decode(
      from: JSONSerialization.data(withJSONObject: tree))
    #expect(definition.cost.perEpisodeUntreated == 0)
    #expect(definition.cost.untreatedDailyAUCMilligramHoursPerLiter == 200)
  }

  @Test func thresholdAboveTargetIsRejected() {
    let tree = setting(
      shippedJSONTree(), ["cost", "untreatedDailyAUCMilligramHoursPerLiter"], to: 450)
    let paths = decodeError(tree)?.issues.map(\.path) ?? []
    #expect(paths == ["cost.untreatedDailyAUCMilligramHoursPerLiter"])
  }
}
