import Foundation
import Testing
import TitratePKPD

@testable import TitrateEnvironments

@Suite struct ShieldTests {
  /// Typical Goti 2018 patients of the elderly renal population (the prior
  /// model), so that with noise-free levels the MAP estimate equals the
  /// truth and the shield's predictions are exact.
  static func typicalPatients(_ definition: EnvironmentDefinition) throws -> [VirtualPatient] {
    let covariates: [(Double, Double, Bool, Double)] = [
      (85, 55, true, 2.4), (70, 80, false, 1.6), (60, 120, false, 1.2), (40, 70, true, 0.8),
    ]
    var definition = definition
    definition.populations["elderly_renal"]?.model = "goti2018"
    return try covariates.map { age, weight, female, creatinine in
      try definition.typicalPatient(
        populationName: "elderly_renal", ageYears: age, weightKilograms: weight,
        isFemale: female, serumCreatinineMilligramsPerDeciliter: creatinine,
        onHaemodialysis: false)
    }
  }

  /// Runs 3000 mg at every decision, the largest dose, with the shield on
  /// or off, and returns the outcome table.
  func runMaximumDoses(shield: Bool) throws -> OutcomeTable {
    let definition = BayesianObservationTests.noiseFree
    let environment = try VancomycinEnvironment(
      definition: definition, populationName: "elderly_renal", batchSize: 4)
    try environment.setShield(enabled: shield)
    environment.recordsOutcomeTable = true
    environment.automaticallyResets = false
    _ = environment.reset(seed: 1)
    try environment.setPatients(Self.typicalPatients(definition))
    _ = runEpisode(environment, action: 12)
    return environment.drainOutcomeTable()
  }

  /// Soundness with an exact model: no true trough above 20 mg/L and no
  /// day above 600 mg h/L under the shield, where the unshielded maximum
  /// crosses both for every patient.
  @Test func exactModelKeepsExposureWithinThresholds() throws {
    let unshielded = try runMaximumDoses(shield: false)
    #expect(unshielded[column: "anyTroughAboveLimit"] == [1, 1, 1, 1])
    #expect(unshielded[column: "anyDayAUCAboveUpper"] == [1, 1, 1, 1])

    let shielded = try runMaximumDoses(shield: true)
    #expect(shielded[column: "anyTroughAboveLimit"] == [0, 0, 0, 0])
    #expect(shielded[column: "anyDayAUCAboveUpper"] == [0, 0, 0, 0])
    #expect(shielded[column: "shieldWithoutSafeDose"] == [0, 0, 0, 0])
    let reductions = try #require(shielded[column: "shieldReductions"])
    #expect(reductions.allSatisfy { $0 >= 1 })
    let maximumTroughs = try #require(shielded[column: "maximumTrueTroughMilligramsPerLiter"])
    #expect(maximumTroughs.allSatisfy { $0 <= 20 })
  }

  /// Minimality: a dose predicted safe passes unchanged. At 500 mg q12h
  /// in the haematology population most patients keep every dose; the few
  /// with very low clearance get less, never more.
  @Test func safeDosesPassUnchanged() throws {
    func run(shield: Bool) throws -> OutcomeTable {
      let environment = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: "haematology", batchSize: 32)
      try environment.setShield(enabled: shield)
      environment.recordsOutcomeTable = true
      environment.automaticallyResets = false
      _ = environment.reset(seed: 4)
      _ = runEpisode(environment, action: 2)
      return environment.drainOutcomeTable()
    }
    let plain = try #require(run(shield: false)[column: "totalDoseMilligrams"])
    let shielded = try run(shield: true)
    let doses = try #require(shielded[column: "totalDoseMilligrams"])
    let reductions = try #require(shielded[column: "shieldReductions"])
    #expect(plain == [Double](repeating: 3000, count: 32))
    #expect(reductions.filter { $0 == 0 }.count >= 28)
    for (dose, count) in zip(doses, reductions) {
      #expect(count == 0 ? dose == 3000 : dose < 3000)
    }
  }

  /// Predicting at pessimistic parameters: z = 0 is the MAP shield, bit
  /// for bit, and z = 1.645 lowers more doses and leaves no more patients
  /// above 20 mg/L, because each prediction can only rise with z.
  @Test func pessimisticPredictionsShieldMore() throws {
    func run(_ z: Double?) throws -> OutcomeTable {
      let environment = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: "icu_arc", batchSize: 48)
      try environment.setShield(
        ShieldDefinition(
          maximumPredictedTroughMilligramsPerLiter: 20,
          maximumPredictedAUC24MilligramHoursPerLiter: 600, predictionStandardDeviations: z))
      environment.recordsOutcomeTable = true
      environment.automaticallyResets = false
      _ = environment.reset(seed: 5)
      _ = runEpisode(environment, action: 8)
      return environment.drainOutcomeTable()
    }
    let map = try run(nil)
    #expect(try run(0) == map)
    let pessimistic = try run(1.645)
    let mapReductions = try #require(map[column: "shieldReductions"])
    let reductions = try #require(pessimistic[column: "shieldReductions"])
    #expect(reductions.reduce(0, +) > mapReductions.reduce(0, +))
    let mapTroughs = try #require(map[column: "anyTroughAboveLimit"])
    let troughs = try #require(pessimistic[column: "anyTroughAboveLimit"])
    #expect(troughs.reduce(0, +) <= mapTroughs.reduce(0, +))
  }

  @Test func shieldNeedsItsSection() throws {
    let environment = try VancomycinEnvironment(
      definition: BayesianObservationTests.withoutSection, populationName: "obese", batchSize: 1)
    #expect(throws: VancomycinEnvironmentError.shieldNotDefined(environment: "vancomycin")) {
      try environment.setShield(enabled: true)
    }
    try environment.setShield(enabled: false)
    #expect(environment.activeShield == nil)
  }
}
