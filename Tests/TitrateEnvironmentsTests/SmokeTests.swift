import Foundation
import Testing
import TitrateEnvironments

@Test func smokeBaselines() throws {
  for population in shippedDefinition.populationNames {
    let env = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: population, batchSize: 2000)
    env.recordsOutcomeTable = true
    for name in env.baselineNames {
      _ = env.reset(seed: 1)
      for _ in 0..<6 { _ = env.step(actions: try env.baselineActions(named: name)) }
      let table = env.drainOutcomeTable()
      print(population, name, "day3 in target", table.mean(of: "day3InTarget")!, "day1", table.mean(of: "day1InTarget")!,
        "trough>20", table.mean(of: "anyTroughAboveLimit")!, "day3AUC", table.mean(of: "day3AUC")!,
        "CL", table.mean(of: "clearanceLitersPerHour")!, "CrCl", table.mean(of: "creatinineClearanceMillilitersPerMinute")!,
        "clampDaily", table.mean(of: "interventionsClampedToDailyMaximum")!)
    }
  }
}
