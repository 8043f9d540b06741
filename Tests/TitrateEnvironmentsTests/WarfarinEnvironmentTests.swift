import Foundation
import Testing
import TitrateRandom

@testable import TitrateEnvironments

/// Checks the warfarin environment: seeding, schedule, reward, actuator,
/// outcomes and the sampled population.
@Suite struct WarfarinEnvironmentTests {
  /// Runs one episode of `days` steps with the actions from `policy`.
  static func run(
    _ environment: WarfarinEnvironment, days: Int, policy: (WarfarinEnvironment) -> [Float]
  ) -> [EnvironmentStep] {
    var steps: [EnvironmentStep] = []
    for _ in 0..<days { steps.append(environment.step(actions: policy(environment))) }
    return steps
  }

  @Test func sameSeedGivesIdenticalEpisodes() throws {
    var tables: [OutcomeTable] = []
    var observations: [[Float]] = []
    for _ in 0..<2 {
      let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 4)
      environment.recordsOutcomeTable = true
      observations.append(environment.reset(seed: 11))
      let steps = Self.run(environment, days: warfarinDefinition.dosing.episodeDays) {
        try! $0.baselineActions(named: "iwpc_pharmacogenetic")
      }
      observations.append(steps.last!.finalObservations)
      tables.append(environment.drainOutcomeTable())
    }
    #expect(observations[0] == observations[2])
    #expect(observations[1] == observations[3])
    #expect(tables[0] == tables[1])
    #expect(tables[0].rowCount == 4)
  }

  @Test func differentSeedsDrawDifferentPatients() throws {
    let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 4)
    let first = environment.reset(seed: 1)
    let second = environment.reset(seed: 2)
    #expect(first != second)
  }

  @Test func measuresINROnScheduledMornings() throws {
    let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 2)
    let size = WarfarinObservation.count
    var observation = environment.reset(seed: 3)
    var measuredDays: [Int] = []
    for day in 1...15 {
      if observation[16] == 1 { measuredDays.append(day) }
      observation = environment.step(actions: [10, 10]).observations
    }
    // Therapy days 1 to 15 of the shipped schedule 1, 3, 5, 7, 10, 14, ...
    #expect(measuredDays == [1, 3, 5, 7, 10, 14])
    // Day 1 reports the pre-treatment INR (1.0 rounded to 0.1 with 3.25 %
    // noise: 0.9 to 1.1) for both patients.
    let first = environment.reset(seed: 3)
    for row in 0..<2 {
      #expect(first[row * size + 14] >= 0.9, "patient \(row)")
      #expect(first[row * size + 14] <= 1.1, "patient \(row)")
    }
  }

  @Test func untreatedPatientsEarnNothing() throws {
    let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 3)
    environment.recordsOutcomeTable = true
    let days = warfarinDefinition.dosing.episodeDays
    let steps = Self.run(environment, days: days) { _ in [0, 0, 0] }
    #expect(steps.allSatisfy { $0.rewards == [0, 0, 0] })
    #expect(steps.allSatisfy { $0.costs == [0, 0, 0] })
    #expect(steps.last!.terminated == [true, true, true])
    let table = environment.drainOutcomeTable()
    #expect(table[column: "ttrTrueDaily"] == [0, 0, 0])
    #expect(table[column: "timeBelowRangeTrueDaily"] == [1, 1, 1])
    #expect(table[column: "ttrMeasured"] == [0, 0, 0])
    #expect(table[column: "totalDoseMilligrams"] == [0, 0, 0])
  }

  @Test func endsEpisodesAndRestartsAutomatically() throws {
    let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 2)
    let days = warfarinDefinition.dosing.episodeDays
    let steps = Self.run(environment, days: days) { _ in [8, 8] }
    #expect(steps.dropLast().allSatisfy { $0.terminated == [false, false] })
    #expect(steps.last!.terminated == [true, true])
    #expect(steps.last!.truncated == [false, false])
    #expect(environment.day == 0)
    // The next episode starts at day 0 and the finished one is tallied.
    #expect(steps.last!.observations[0] == 0)
    #expect(steps.last!.finalObservations[0] == 1)
    let tally = environment.drainEpisodeOutcomes()
    #expect(tally.episodes == 2)
    #expect(tally.mean("totalDoseMilligrams") == 4.0 * Double(days))
  }

  @Test func actuatorRoundsClampsAndCountsDoses() throws {
    let environment = try WarfarinEnvironment(
      definition: warfarinDefinition, batchSize: 5, actionMode: .continuousMilligrams)
    environment.recordsOutcomeTable = true
    environment.automaticallyResets = false
    _ = environment.step(actions: [2.3, -1, .nan, 20, 5])
    #expect(Array(environment.records.doses.prefix(5)) == [2.5, 0, 0, 15, 5])
    #expect(environment.records.rounded == [1, 0, 0, 0, 0])
    #expect(environment.records.negative == [0, 1, 0, 0, 0])
    #expect(environment.records.nonFinite == [0, 0, 1, 0, 0])
    #expect(environment.records.clampedToMaximum == [0, 0, 0, 1, 0])
  }

  @Test func rejectsBadBatchAndPatientCounts() throws {
    #expect(throws: WarfarinEnvironmentError.invalidBatchSize(0)) {
      try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 0)
    }
    let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 2)
    let patient = environment.patients[0]
    #expect(throws: WarfarinEnvironmentError.patientCountMismatch(expected: 2, received: 1)) {
      try environment.setPatients([patient])
    }
    _ = environment.step(actions: [0, 0])
    #expect(throws: WarfarinEnvironmentError.patientsOutsideEpisodeStart(decisionsTaken: 1)) {
      try environment.setPatients([patient, patient])
    }
  }

  @Test func sampledGenotypeFrequenciesMatchDefinition() {
    // 100,000 patients: each frequency f lies within 4 standard errors,
    // sqrt(f (1 - f) / n), of the definition's value.
    let sampler = WarfarinPatientSampler(definition: warfarinDefinition)
    var generator = Xoshiro256(seed: 2024)
    let count = 100_000
    var cyp2c9Counts = [CYP2C9Genotype: Int]()
    var vkorc1Counts = [VKORC1Genotype: Int]()
    for _ in 0..<count {
      let patient = sampler.samplePatient(using: &generator)
      cyp2c9Counts[patient.cyp2c9, default: 0] += 1
      vkorc1Counts[patient.vkorc1, default: 0] += 1
    }
    let population = warfarinDefinition.population
    func check(_ observedCount: Int, _ expected: Double, _ label: String) {
      let observed = Double(observedCount) / Double(count)
      let standardError = (expected * (1 - expected) / Double(count)).squareRoot()
      #expect(abs(observed - expected) <= 4 * standardError, "\(label): \(observed)")
    }
    for genotype in CYP2C9Genotype.allCases {
      check(
        cyp2c9Counts[genotype] ?? 0, population.cyp2c9Frequencies[genotype.rawValue]!,
        genotype.rawValue)
    }
    for genotype in VKORC1Genotype.allCases {
      check(
        vkorc1Counts[genotype] ?? 0, population.vkorc1Frequencies[genotype.rawValue]!,
        genotype.rawValue)
    }
  }
}

/// Hand-worked cases of the Rosendaal interpolation.
@Suite struct RosendaalTimeInRangeTests {
  @Test func risingSegmentSplitsAtBothBounds() {
    // INR 1.5 -> 3.5 over 10 days crosses 2 at day 2.5 and 3 at day 7.5.
    let result = RosendaalTimeInRange(timesDays: [0, 10], inrs: [1.5, 3.5], lower: 2, upper: 3)
    #expect(abs(result.belowFraction - 0.25) < 1e-12)
    #expect(abs(result.inRangeFraction - 0.5) < 1e-12)
    #expect(abs(result.aboveFraction - 0.25) < 1e-12)
  }

  @Test func unevenIntervalsWeighByDuration() {
    // Days 0-5 at 2.5 (in range); days 5-10 from 2.5 to 4.5 cross 3 after
    // 1.25 days: in range 6.25 of 10 days, above 3.75.
    let result = RosendaalTimeInRange(
      timesDays: [0, 5, 10], inrs: [2.5, 2.5, 4.5], lower: 2, upper: 3)
    #expect(abs(result.inRangeFraction - 0.625) < 1e-12)
    #expect(abs(result.aboveFraction - 0.375) < 1e-12)
    #expect(result.belowFraction == 0)
    // Above 4 from day 8.75 to 10: 1.25 of 10 days.
    let bleeding = RosendaalTimeInRange(
      timesDays: [0, 5, 10], inrs: [2.5, 2.5, 4.5], lower: 4, upper: 4)
    #expect(abs(bleeding.aboveFraction - 0.125) < 1e-12)
  }

  @Test func fallingSegmentAndBoundaryValues() {
    // 3.0 held for a day counts as in range; then 3.0 -> 1.0 over 2 days
    // is in range for 1 day and below for 1 day.
    let result = RosendaalTimeInRange(
      timesDays: [0, 1, 3], inrs: [3.0, 3.0, 1.0], lower: 2, upper: 3)
    #expect(abs(result.inRangeFraction - 2.0 / 3.0) < 1e-12)
    #expect(abs(result.belowFraction - 1.0 / 3.0) < 1e-12)
    #expect(result.aboveFraction == 0)
  }

  @Test func singlePointGivesZeros() {
    let result = RosendaalTimeInRange(timesDays: [4], inrs: [2.5], lower: 2, upper: 3)
    #expect(result == RosendaalTimeInRange(timesDays: [], inrs: [], lower: 2, upper: 3))
    #expect(result.inRangeFraction == 0)
  }
}
