import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the glucose environment's episode, actuator, baseline and records.
@Suite struct GlucoseEnvironmentTests {
  /// Runs one whole episode with a constant action and returns the table.
  static func runEpisode(
    definition: GlucoseDefinition = glucoseDefinition, group: GlucoseAgeGroup?, batchSize: Int,
    action: Float, seed: UInt64 = 7
  ) -> OutcomeTable {
    let environment = try! GlucoseEnvironment(
      definition: definition, group: group, batchSize: batchSize)
    environment.recordsOutcomeTable = true
    environment.automaticallyResets = false
    _ = environment.reset(seed: seed)
    let actions = [Float](repeating: action, count: batchSize)
    for _ in 0..<environment.episodeDecisions { _ = environment.step(actions: actions) }
    return environment.drainOutcomeTable()
  }

  @Test func sameSeedGivesSameEpisode() {
    let first = try! GlucoseEnvironment(definition: glucoseDefinition, group: nil, batchSize: 4)
    let second = try! GlucoseEnvironment(definition: glucoseDefinition, group: nil, batchSize: 4)
    #expect(first.reset(seed: 11) == second.reset(seed: 11))
    #expect(first.patientIndices == second.patientIndices)
    let actions = [Float](repeating: 1, count: 4)
    for _ in 0..<100 {
      #expect(first.step(actions: actions).observations == second.step(actions: actions).observations)
    }
  }

  @Test func groupLimitsThePatients() {
    let environment = try! GlucoseEnvironment(
      definition: glucoseDefinition, group: .children, batchSize: 50)
    let table = glucoseDefinition.patientTable.patients
    #expect(environment.patientIndices.allSatisfy { table[$0].group == .children })
  }

  @Test func baselineEpisodeRecordsEveryPatient() {
    let table = Self.runEpisode(group: nil, batchSize: 30, action: 1)
    #expect(table.rowCount == 30)
    #expect(table.columnNames == GlucoseEnvironment.outcomeColumnNames)
    let inRange = table[column: "timeInRange"]!
    #expect(inRange.allSatisfy { (0...1).contains($0) })
    // The basal-bolus baseline keeps most of the day in range on average.
    #expect(table.mean(of: "timeInRange")! > 0.5)
    #expect(table.mean(of: "totalCarbohydrateGrams")! > 100)
    #expect(table.mean(of: "totalBolusUnits")! > 0)
    let risk = zip(table[column: "lowBloodGlucoseIndex"]!, table[column: "highBloodGlucoseIndex"]!)
    for ((low, high), total) in zip(risk, table[column: "riskIndex"]!) {
      #expect(abs(low + high - total) < 1e-9)
    }
  }

  @Test func withholdingInsulinRaisesGlucose() {
    let baseline = Self.runEpisode(group: .adults, batchSize: 10, action: 1)
    let none = Self.runEpisode(group: .adults, batchSize: 10, action: 0)
    #expect(none.mean(of: "meanGlucoseMilligramsPerDeciliter")!
      > baseline.mean(of: "meanGlucoseMilligramsPerDeciliter")! + 50)
    #expect(none.mean(of: "totalInsulinUnits")! == 0)
    #expect(none.mean(of: "timeBelowRange")! == 0)
  }

  @Test func noiseOffReportsTrueGlucose() {
    var definition = glucoseDefinition
    definition.sensor.noiseEnabled = false
    let environment = try! GlucoseEnvironment(definition: definition, group: nil, batchSize: 5)
    var observations = environment.reset(seed: 3)
    for _ in 0..<50 {
      observations = environment.step(actions: [Float](repeating: 1, count: 5)).observations
    }
    for (p, glucose) in environment.trueBloodGlucose.enumerated() {
      let reported = Double(observations[p * GlucoseObservation.count]) * 100
      #expect(abs(reported - glucose) < 1e-3 * glucose)
    }
  }

  @Test func actuatorCountsInterventions() {
    let environment = try! GlucoseEnvironment(
      definition: glucoseDefinition, group: nil, batchSize: 3)
    environment.recordsOutcomeTable = true
    environment.automaticallyResets = false
    for _ in 0..<environment.episodeDecisions {
      _ = environment.step(actions: [.nan, -1, 5])
    }
    let table = environment.drainOutcomeTable()
    let steps = Double(environment.episodeDecisions)
    #expect(table[column: "interventionsNonFinite"]! == [steps, 0, 0])
    #expect(table[column: "interventionsNegative"]! == [0, steps, 0])
    #expect(table[column: "interventionsClampedToMaximumMultiplier"]! == [0, 0, steps])
    #expect(table[column: "totalInsulinUnits"]![0] == 0)
  }

  @Test func pumpRoundsBasalToIncrement() {
    let environment = try! GlucoseEnvironment(
      definition: glucoseDefinition, group: nil, batchSize: 1)
    // 0.29 U/h rounds to 0.30 U/h; 40 U/h is capped at 30 U/h.
    #expect(abs(environment.pumpBasal(0.29 / 60, patient: 0) * 60 - 0.30) < 1e-12)
    #expect(abs(environment.pumpBasal(40.0 / 60, patient: 0) * 60 - 30) < 1e-12)
    #expect(abs(environment.pumpBolus(1.234, patient: 0) - 1.25) < 1e-12)
    #expect(environment.pumpBolus(45, patient: 0) == 30)
  }

  @Test func baselineBolusCoversAnnouncedMeal() throws {
    var definition = glucoseDefinition
    definition.sensor.noiseEnabled = false
    let environment = try GlucoseEnvironment(definition: definition, group: nil, batchSize: 1)
    try environment.setPatients(indices: [12], meals: [[(minute: 6, grams: 60)]])
    let patient = definition.patientTable.patients[12]
    // The meal starts in the third step (minutes 6-8); the CGM is at Gb,
    // below the correction threshold, so the bolus is grams / CR.
    #expect(environment.baselineInsulin().bolus == [0])
    _ = environment.step(actions: [1])
    _ = environment.step(actions: [1])
    let bolus = environment.baselineInsulin().bolus[0]
    #expect(abs(bolus - 60 / patient.carbohydrateRatioGramsPerUnit) < 1e-12)
  }
}
