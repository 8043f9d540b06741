import Foundation
import Testing
import TitrateEnvironments
import TitratePolicy
import TitrateRandom

@testable import TitrateEvaluation

@Suite struct PolicyEvaluationTests {
  static let definition: EnvironmentDefinition = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Environments/vancomycin.json")
    return try! EnvironmentDefinition.load(from: url)
  }()

  @Sendable func makeEnvironment(_ size: Int) throws -> any DosingEnvironment {
    let environment = try VancomycinEnvironment(
      definition: Self.definition, populationName: "obese", batchSize: size,
      streamIdentifier: 99)
    environment.recordsOutcomeTable = true
    return environment
  }

  @Test func everyPolicySeesTheSamePatients() throws {
    var generator = Xoshiro256(seed: 1)
    let network = ActorCritic(
      observationSize: VancomycinObservation.count(for: Self.definition),
      actionSpace: .discrete(count: 13), hiddenSizes: [8], generator: &generator)
    let tables = try evaluatePolicies(
      [.learned(network: network, normalizer: nil), .baseline("guideline"), .baseline("oracle")],
      patientCount: 250, batchSize: 100, seed: 5, makeEnvironment: makeEnvironment)
    #expect(tables.map(\.rowCount) == [250, 250, 250])
    for column in ["weightKilograms", "ageYears", "clearanceLitersPerHour"] {
      #expect(tables[0][column: column] == tables[1][column: column], "\(column)")
      #expect(tables[0][column: column] == tables[2][column: column], "\(column)")
    }
    // Different policies dose differently on those patients.
    #expect(tables[1][column: "totalDoseMilligrams"] != tables[2][column: "totalDoseMilligrams"])
  }

  @Test func sameSeedGivesIdenticalTables() throws {
    let first = try evaluatePolicies(
      [.baseline("guideline")], patientCount: 120, batchSize: 50, seed: 8,
      makeEnvironment: makeEnvironment)
    let second = try evaluatePolicies(
      [.baseline("guideline")], patientCount: 120, batchSize: 50, seed: 8,
      makeEnvironment: makeEnvironment)
    #expect(first == second)
    let other = try evaluatePolicies(
      [.baseline("guideline")], patientCount: 120, batchSize: 50, seed: 9,
      makeEnvironment: makeEnvironment)
    #expect(first[0][column: "weightKilograms"] != other[0][column: "weightKilograms"])
  }

  @Test func threadCountDoesNotChangeTables() throws {
    let policies: [EvaluatedPolicy] = [.baseline("guideline"), .baseline("oracle")]
    let serial = try evaluatePolicies(
      policies, patientCount: 230, batchSize: 50, seed: 4, threads: 1,
      makeEnvironment: makeEnvironment)
    let parallel = try evaluatePolicies(
      policies, patientCount: 230, batchSize: 50, seed: 4, threads: 3,
      makeEnvironment: makeEnvironment)
    #expect(serial == parallel)
    #expect(serial[0].rowCount == 230)
  }

  @Test func unknownBaselineIsReported() throws {
    #expect(throws: EvaluationError.self) {
      _ = try evaluatePolicies(
        [.baseline("nomogram")], patientCount: 10, batchSize: 10, seed: 1,
        makeEnvironment: makeEnvironment)
    }
  }

  @Test func evaluationRestoresAutomaticReset() throws {
    let environment = try makeEnvironment(20)
    _ = try evaluateEpisode(environment, policy: .baseline("guideline"), seed: 3)
    #expect(environment.automaticallyResets)
  }

  @Test func summaryCountsMatchTheTable() throws {
    let table = try evaluatePolicies(
      [.baseline("oracle")], patientCount: 300, batchSize: 300, seed: 2,
      makeEnvironment: makeEnvironment)[0]
    let summary = OutcomeSummary(policy: "oracle", cohort: "obese", table: table, days: 3)
    let inTarget = table[column: "day3InTarget"]!.filter { $0 == 1 }.count
    #expect(summary.targetAttainment.events == inTarget)
    #expect(summary.patients == 300)
    let above = table[column: "day3AUC"]!.filter { $0 > 600 }.count
    #expect(summary.lastDayAUCAbove600.events == above)
  }
}
