import Foundation
import Testing
import TitratePKPD

@testable import TitrateEnvironments

@Suite struct VancomycinEnvironmentTests {
  let patientsForRegimen = [
    makePatient(parameters: gotiTypical),
    makePatient(
      parameters: CompartmentalParameters(
        clearanceLitersPerHour: 2, centralVolumeLiters: 40,
        intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [60])),
    makePatient(
      parameters: CompartmentalParameters(
        clearanceLitersPerHour: 9, centralVolumeLiters: 90,
        intercompartmentalClearancesLitersPerHour: [4], peripheralVolumesLiters: [30])),
  ]

  @Test func fixedRegimenDayAUCsMatchClosedForm() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: 3)
    environment.recordsOutcomeTable = true
    _ = environment.reset(seed: 7)
    try environment.setPatients(patientsForRegimen)
    // Level 4 = 1000 mg; max(1 h, 1000 mg / 10 mg/min) = 1.67 h, rounded
    // up to the 0.25-h grid: 1.75 h.
    let episode = runEpisode(environment, action: 4)
    let table = environment.drainOutcomeTable()
    #expect(table.rowCount == 3)
    let infusions = (0..<6).map {
      Infusion(startHours: Double($0) * 12, doseMilligrams: 1000, durationHours: 1.75)
    }
    let reward = shippedDefinition.reward
    for (p, patient) in patientsForRegimen.enumerated() {
      var expectedReturn = 0.0
      for day in 1...3 {
        let expected = closedFormAUC(
          patient.parameters, infusions: infusions, from: Double(day - 1) * 24,
          to: Double(day) * 24)
        let simulated = table[column: "day\(day)AUC"]![p]
        #expect(abs(simulated - expected) <= 1e-7 * expected, "patient \(p) day \(day)")
        let inTarget = expected >= 400 && expected <= 600
        let score =
          inTarget
          ? 1 : -min(2, 0.005 * (expected < 400 ? 400 - expected : expected - 600))
        expectedReturn += reward.dayWeights[day - 1] * score
      }
      let troughsAbove = table[column: "troughsAboveLimit"]![p]
      expectedReturn -= reward.penaltyPerTroughAboveLimit * troughsAbove
      let stepReturn = episode.rewards.reduce(0.0) { $0 + Double($1[p]) }
      #expect(abs(stepReturn - expectedReturn) < 1e-4)
      #expect(abs(table[column: "episodeReturn"]![p] - expectedReturn) < 1e-9)
      let stepCost = episode.costs.reduce(0.0) { $0 + Double($1[p]) }
      #expect(stepCost == table[column: "episodeCost"]![p])
      #expect(table[column: "totalDoseMilligrams"]![p] == 6000)
    }
  }

  @Test func steadyStateAUCEqualsDailyDoseOverClearance() throws {
    let definition = definitionWithEpisode(days: 14)
    let environment = try VancomycinEnvironment(
      definition: definition, populationName: "icu_arc", batchSize: 3)
    environment.recordsOutcomeTable = true
    _ = environment.reset(seed: 1)
    try environment.setPatients(patientsForRegimen)
    _ = runEpisode(environment, action: 4)
    let table = environment.drainOutcomeTable()
    // Patient 1 (terminal half-life about 39 h) is still 0.4 % from steady
    // state on day 14, so only the faster patients are checked tightly.
    for p in [0, 2] {
      let patient = patientsForRegimen[p]
      let expected = 2000 / patient.parameters.clearanceLitersPerHour
      let simulated = table[column: "day14AUC"]![p]
      #expect(abs(simulated - expected) <= 1e-4 * expected, "patient \(p)")
    }
  }

  @Test func observationLayoutAfterFirstDose() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: 1)
    let first = environment.reset(seed: 3)
    let patient = environment.patients[0]
    typealias O = VancomycinObservation
    #expect(first.count == O.countWithBayesianEstimate)
    #expect(first[O.ageYears] == Float(patient.ageYears))
    #expect(first[O.weightKilograms] == Float(patient.weightKilograms))
    #expect(first[O.female] == (patient.isFemale ? 1 : 0))
    #expect(
      first[O.serumCreatinineMilligramsPerDeciliter]
        == Float(patient.serumCreatinineMilligramsPerDeciliter))
    #expect(
      first[O.creatinineClearanceMillilitersPerMinute]
        == Float(patient.creatinineClearanceMillilitersPerMinute))
    #expect(first[O.haemodialysis] == 0)
    for index in O.hoursSinceStart...O.hoursSincePreviousPeak {
      #expect(first[index] == 0, "entry \(index)")
    }
    // Every icu_arc patient is in intensive care, the last entry.
    #expect(first[O.countWithBayesianEstimate - 1] == 1)

    let step = environment.step(actions: [4])
    let row = step.observations
    #expect(row[O.hoursSinceStart] == 12)
    #expect(row[O.previousDoseMilligrams] == 1000)
    #expect(row[O.secondPreviousDoseMilligrams] == 0)
    // Trough drawn 0.5 h before the second dose; peak 1 h after the end of
    // the 1.75-h infusion, at 2.75 h.
    #expect(row[O.troughAvailable] == 1)
    #expect(row[O.hoursSinceTrough] == 0.5)
    #expect(row[O.troughMilligramsPerLiter] >= 0)
    #expect(row[O.peakAvailable] == 1)
    #expect(row[O.hoursSincePeak] == 9.25)
    #expect(row[O.peakMilligramsPerLiter] > row[O.troughMilligramsPerLiter] - 20)

    let second = environment.step(actions: [0]).observations
    #expect(second[O.previousDoseMilligrams] == 0)
    #expect(second[O.secondPreviousDoseMilligrams] == 1000)
    // No infusion, so no new peak: the first one is now 21.25 h old.
    #expect(second[O.hoursSincePeak] == 21.25)
    #expect(second[O.hoursSinceTrough] == 0.5)
    // The base names plus the care setting that ends the row.
    #expect(O.names.count + 1 == O.count)
  }

  @Test func episodeEndsTogetherAndAutoResets() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "obese", batchSize: 4)
    _ = environment.reset(seed: 11)
    let firstPatients = environment.patients
    let episode = runEpisode(environment, action: 6)
    for (index, step) in episode.steps.enumerated() {
      let isLast = index == 5
      #expect(step.terminated == [Bool](repeating: isLast, count: 4), "step \(index)")
      #expect(step.truncated == [Bool](repeating: false, count: 4))
    }
    let last = episode.steps[5]
    let width = environment.observationSize
    for p in 0..<4 {
      #expect(last.finalObservations[p * width + VancomycinObservation.hoursSinceStart] == 72)
      #expect(last.observations[p * width + VancomycinObservation.hoursSinceStart] == 0)
      #expect(last.observations[p * width + VancomycinObservation.troughAvailable] == 0)
      #expect(
        last.observations[p * width + VancomycinObservation.weightKilograms]
          == Float(environment.patients[p].weightKilograms))
    }
    #expect(environment.patients != firstPatients)
    #expect(environment.decisionIndex == 0)
    let tally = environment.drainEpisodeOutcomes()
    #expect(tally.episodes == 4)
    #expect(environment.drainEpisodeOutcomes().episodes == 0)
    // The table is off by default.
    #expect(environment.drainOutcomeTable().rowCount == 0)
  }

  @Test func sameSeedGivesSamePatientsAndNoise() throws {
    func rollout(population: String, seed: UInt64) throws -> ([VirtualPatient], [Float]) {
      let environment = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: population, batchSize: 8)
      _ = environment.reset(seed: seed)
      let patients = environment.patients
      var observations: [Float] = []
      for _ in 0..<5 {
        observations += environment.step(actions: [Float](repeating: 5, count: 8)).observations
      }
      return (patients, observations)
    }
    let first = try rollout(population: "icu_arc", seed: 42)
    let second = try rollout(population: "icu_arc", seed: 42)
    #expect(first.0 == second.0)
    #expect(first.1 == second.1)
    let otherSeed = try rollout(population: "icu_arc", seed: 43)
    #expect(otherSeed.0 != first.0)
    let otherSite = try rollout(population: "obese", seed: 42)
    #expect(otherSite.0.map(\.ageYears) != first.0.map(\.ageYears))
  }

  @Test func guidelineDosesForHandWorkedPatients() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "obese", batchSize: 3)
    _ = environment.reset(seed: 0)
    try environment.setPatients([
      makePatient(weightKilograms: 70), makePatient(weightKilograms: 130),
      makePatient(weightKilograms: 52),
    ])
    // Loading 25 mg/kg: 1750 mg; 3250 capped at 3000 mg; 1300 -> 1250 mg.
    #expect(try environment.baselineActions(named: "guideline") == [7, 12, 5])
    _ = environment.step(actions: try environment.baselineActions(named: "guideline"))
    // Maintenance 15 mg/kg: 1050 -> 1000 mg; 1950 -> 2000 mg; 780 -> 750 mg.
    #expect(try environment.baselineActions(named: "guideline") == [4, 8, 3])
    #expect(
      throws: BaselineError.unknownBaseline(
        name: "nomogram", known: ["guideline", "oracle", "bayesian"])
    ) {
      _ = try environment.baselineActions(named: "nomogram")
    }
  }

  @Test(arguments: ["icu_arc", "elderly_renal", "haematology", "obese"])
  func oracleReachesTargetOnDayThree(population: String) throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: population, batchSize: 400)
    environment.recordsOutcomeTable = true
    _ = environment.reset(seed: 5)
    for _ in 0..<6 {
      _ = environment.step(actions: try environment.baselineActions(named: "oracle"))
    }
    let table = environment.drainOutcomeTable()
    let attainment = try #require(table.mean(of: "day3InTarget"))
    #expect(attainment >= 0.9, "day-3 attainment \(attainment) in \(population)")
    #expect(table.mean(of: "interventionsRounded") == 0)
  }

  @Test func actuatorInterventionsAreCountedPerPatient() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "haematology", batchSize: 4)
    environment.recordsOutcomeTable = true
    _ = environment.reset(seed: 2)
    // NaN, level 20 (5000 mg), level -1, level 4.4 (1100 mg).
    let actions: [Float] = [.nan, 20, -1, 4.4]
    let first = environment.step(actions: actions).observations
    let width = environment.observationSize
    let doses = (0..<4).map { first[$0 * width + VancomycinObservation.previousDoseMilligrams] }
    #expect(doses == [0, 3000, 0, 1000])
    // 3000 mg every 12 h stays within the 6000 mg 24-h limit.
    for _ in 1..<6 { _ = environment.step(actions: actions) }
    let table = environment.drainOutcomeTable()
    #expect(table[column: "interventionsNonFinite"] == [6, 0, 0, 0])
    #expect(table[column: "interventionsClampedToSingleMaximum"] == [0, 6, 0, 0])
    #expect(table[column: "interventionsNegative"] == [0, 0, 6, 0])
    #expect(table[column: "interventionsRounded"] == [0, 0, 0, 6])
    #expect(table[column: "totalDoseMilligrams"] == [0, 18000, 0, 6000])
    #expect(environment.actuatorCounts.requests == 24)
    #expect(environment.actuatorCounts.total == 24)
  }

  /// With the shipped cost (1 at the first toxic trough of an episode, 0
  /// otherwise) each patient's episode cost is the indicator of ever having
  /// a true trough above 20 mg/L, however many troughs cross. 1500 mg q12h
  /// in the elderly renal population gives patients with several crossings.
  @Test func episodeCostIndicatesAnyToxicTrough() throws {
    #expect(shippedDefinition.cost.perEpisodeWithTroughAboveLimit == 1)
    #expect(shippedDefinition.cost.perTroughAboveLimit == 0)
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "elderly_renal", batchSize: 64)
    environment.recordsOutcomeTable = true
    environment.automaticallyResets = false
    _ = environment.reset(seed: 5)
    let (_, costs, _) = runEpisode(environment, action: 6)
    let table = environment.drainOutcomeTable()
    let episodeCosts = (0..<64).map { patient in costs.reduce(0.0) { $0 + Double($1[patient]) } }
    #expect(episodeCosts == table[column: "anyTroughAboveLimit"])
    #expect(episodeCosts == table[column: "episodeCost"])
    let troughCounts = try #require(table[column: "troughsAboveLimit"])
    #expect(troughCounts.contains { $0 >= 2 })
    #expect(troughCounts.contains { $0 == 0 })
  }

  /// The trajectory columns add up to the episode summaries: doses to the
  /// total dose, troughs to the maximum true trough and the count above
  /// 20 mg/L.
  @Test func trajectoryColumnsMatchSummaries() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: 16)
    environment.recordsOutcomeTable = true
    environment.automaticallyResets = false
    _ = environment.reset(seed: 8)
    for decision in 0..<6 {
      _ = environment.step(actions: (0..<16).map { Float(($0 + decision) % 13) })
    }
    let table = environment.drainOutcomeTable()
    for p in 0..<16 {
      let doses = (1...6).map { table[column: "dose\($0)Milligrams"]![p] }
      let troughs = (1...6).map { table[column: "trough\($0)MilligramsPerLiter"]![p] }
      #expect(doses == (0..<6).map { Double(((p + $0) % 13) * 250) })
      #expect(doses.reduce(0, +) == table[column: "totalDoseMilligrams"]![p])
      #expect(troughs.max()! == table[column: "maximumTrueTroughMilligramsPerLiter"]![p])
      #expect(
        Double(troughs.filter { $0 > 20 }.count) == table[column: "troughsAboveLimit"]![p])
    }
  }

  /// A patient's measurement noise does not depend on the doses the other
  /// patients get: withholding patient 0's doses (so it has no peaks)
  /// leaves every other patient's observations unchanged.
  @Test func noiseDoesNotDependOnOtherPatientsDoses() throws {
    func finalObservations(firstPatientAction: Float) throws -> [Float] {
      let environment = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: "obese", batchSize: 8)
      environment.automaticallyResets = false
      _ = environment.reset(seed: 12)
      var last: [Float] = []
      for _ in 0..<6 {
        var actions = [Float](repeating: 4, count: 8)
        actions[0] = firstPatientAction
        last = environment.step(actions: actions).observations
      }
      return last
    }
    let dosed = try finalObservations(firstPatientAction: 4)
    let withheld = try finalObservations(firstPatientAction: 0)
    let width = dosed.count / 8
    #expect(dosed[0..<width] != withheld[0..<width])
    #expect(Array(dosed[width...]) == Array(withheld[width...]))
  }

  @Test func latestLevelsMoveToPreviousOnTheNextDraw() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: 3)
    _ = environment.reset(seed: 5)
    let width = environment.observationSize
    var rows: [[Float]] = []
    for _ in 0..<3 { rows.append(environment.step(actions: [4, 4, 4]).observations) }
    for p in 0..<3 {
      let first = rows[0][(p * width)..<((p + 1) * width)].map { $0 }
      let second = rows[1][(p * width)..<((p + 1) * width)].map { $0 }
      let third = rows[2][(p * width)..<((p + 1) * width)].map { $0 }
      // After dose 1: one peak, no trough yet (first trough before dose 2
      // is drawn at 11.5 h, so it is already in the first row).
      #expect(first[VancomycinObservation.peakAvailable] == 1)
      #expect(first[VancomycinObservation.previousPeakAvailable] == 0)
      #expect(first[VancomycinObservation.previousTroughAvailable] == 0)
      // The peak of dose 1 becomes the previous peak after dose 2, and the
      // trough before dose 2 the previous trough after the next draw.
      #expect(second[VancomycinObservation.previousPeakAvailable] == 1)
      #expect(
        second[VancomycinObservation.previousPeakMilligramsPerLiter]
          == first[VancomycinObservation.peakMilligramsPerLiter])
      #expect(
        second[VancomycinObservation.hoursSincePreviousPeak]
          == first[VancomycinObservation.hoursSincePeak] + 12)
      #expect(
        third[VancomycinObservation.previousTroughMilligramsPerLiter]
          == second[VancomycinObservation.troughMilligramsPerLiter])
      #expect(
        third[VancomycinObservation.hoursSincePreviousTrough]
          == second[VancomycinObservation.hoursSinceTrough] + 12)
    }
  }

  @Test func continuousModeRoundsMilligrams() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "haematology", batchSize: 1,
      actionMode: .continuousMilligrams)
    #expect(environment.actionSpace == .continuous(low: 0, high: 3000))
    _ = environment.reset(seed: 2)
    let row = environment.step(actions: [1100]).observations
    #expect(row[VancomycinObservation.previousDoseMilligrams] == 1000)
    #expect(environment.actuatorCounts.rounded == 1)
  }

  @Test func rejectsUnknownPopulation() {
    #expect(
      throws: VancomycinEnvironmentError.unknownPopulation(
        name: "paediatric", known: ["elderly_renal", "haematology", "icu_arc", "obese"])
    ) {
      _ = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: "paediatric", batchSize: 1)
    }
  }
}
