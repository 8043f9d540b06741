import Testing
import TitrateEnvironments
import TitrateRandom

@testable import TitrateSafety

/// The measurements behind the checks, on hand-made inputs that must fail.
@Suite struct CheckMeasurementTests {
  let rules = Fixtures.definition.dosing
  let limits = Fixtures.definition.actuatorLimits

  func measure(_ doses: [Double], intervalHours: Double = 12) -> DeliveredDoseMeasurement {
    var measurement = DeliveredDoseMeasurement()
    measurement.add(
      doses: doses, intervalHours: intervalHours, rules: rules, limits: limits, cohort: "test")
    return measurement
  }

  @Test func singleDoseAboveMaximumIsMeasured() {
    let measurement = measure([1000, 3250, 0])
    #expect(measurement.largestDoseMilligrams == 3250)
    #expect(measurement.undeliverableDoses == 0)
  }

  @Test func dailyWindowExcludesDoseExactly24HoursEarlier() {
    // q12h: a dose 24 h earlier is outside the window, so 6000 mg.
    #expect(measure([3000, 3000, 3000]).largest24HourTotalMilligrams == 6000)
    // q8h: three doses start within 24 h, 9000 mg.
    #expect(measure([3000, 3000, 3000], intervalHours: 8).largest24HourTotalMilligrams == 9000)
  }

  @Test func undeliverableDosesAreCounted() {
    let measurement = measure([125, .nan, -250, .infinity, 500])
    #expect(measurement.undeliverableDoses == 4)
    #expect(measurement.largestDoseMilligrams == 500)
  }

  @Test func infusionRateAndDurationFollowRules() {
    // 3000 mg at 10 mg/min takes 5 h; 250 mg takes the 1-h minimum.
    let measurement = measure([3000, 250])
    #expect(measurement.fastestInfusionMilligramsPerMinute == 10)
    #expect(measurement.shortestInfusionHours == 1)
  }

  @Test func resultsFailOnBadDoses() {
    let results = hardLimitResults(records: [], rules: rules, limits: limits)
    // No cohort measured: nothing exceeds, and the duration falls back to
    // the minimum.
    let failed = results.filter { !$0.passed }.map(\.name)
    #expect(failed.isEmpty)
    let failing = SafetyCheckResult(
      name: "hardLimits.singleDose", category: .hardLimits, measured: 3250, limit: 3000,
      unit: "mg", detail: "test")
    #expect(!failing.passed)
    #expect(failing.line == "FAIL  hardLimits.singleDose: 3250 mg > limit 3000 mg. test")
    let unmeasured = SafetyCheckResult(
      name: "x", category: .exposure, measured: .nan, limit: 0.05, unit: "fraction", detail: "")
    #expect(!unmeasured.passed)
  }
}

/// The non-finite screen around a policy's rule.
@Suite struct ScreenedRuleTests {
  /// Returns 10 x the first entry of each row, and records the row counts
  /// it was called with.
  final class Recorder: @unchecked Sendable {
    var rowCounts: [Int] = []
  }

  func rule(_ recorder: Recorder) -> ScreenedRule {
    ScreenedRule(rule: { observations, rowCount in
      recorder.rowCounts.append(rowCount)
      return (0..<rowCount).map { observations[$0 * 3] * 10 }
    })
  }

  @Test func rejectsRowWithTypedError() {
    let recorder = Recorder()
    let observations: [Float] = [1, 2, 3, 4, .infinity, 6]
    #expect(throws: NonFiniteObservationError(row: 1, entry: 1, entryName: "b", value: .infinity)) {
      try rule(recorder).actions(
        observations: observations, rowCount: 2, observationNames: ["a", "b", "c"])
    }
    #expect(recorder.rowCounts.isEmpty)
    let error = NonFiniteObservationError(row: 1, entry: 1, entryName: "b", value: .nan)
    #expect(error.description.contains("row 1, entry 1 (b) is nan"))
    #expect(error.description.contains("no dose is given"))
  }

  @Test func screenKeepsFiniteRowsInOrder() {
    let recorder = Recorder()
    let observations: [Float] = [1, 0, 0, .nan, 0, 0, 3, 0, 0, 4, -.infinity, 0]
    let result = rule(recorder).screenedActions(observations: observations, rowCount: 4)
    #expect(result.rejectedRows == [1, 3])
    #expect(result.actions[0] == 10)
    #expect(result.actions[1].isNaN)
    #expect(result.actions[2] == 30)
    #expect(result.actions[3].isNaN)
    // The rule saw only the two finite rows.
    #expect(recorder.rowCounts == [2])
  }

  @Test func screenSkipsRuleWhenEveryRowIsRejected() {
    let recorder = Recorder()
    let result = rule(recorder).screenedActions(observations: [.nan, 0, 0], rowCount: 1)
    #expect(result.rejectedRows == [0])
    #expect(recorder.rowCounts.isEmpty)
  }

  @Test func guidelineMatchesEnvironmentBaseline() throws {
    let environment = try VancomycinEnvironment(
      definition: Fixtures.definition, populationName: "obese", batchSize: 32)
    let rule = try PolicyUnderTest.guideline(definition: Fixtures.definition)
      .screenedRule(at: VerifiedSite(name: "obese", population: "obese")).rule
    var observations = environment.reset(seed: 3)
    for _ in 0..<3 {
      let expected = try environment.baselineActions(named: "guideline")
      #expect(rule(observations, 32) == expected)
      observations = environment.step(actions: expected).observations
    }
  }
}

/// Observation perturbations and stress profiles.
@Suite struct CohortConstructionTests {
  let width = VancomycinObservation.count(for: Fixtures.definition)

  @Test func extremeValuesStayFiniteAndReachMagnitude() {
    var observations = [Float](repeating: 1, count: 64 * width)
    var generator = Xoshiro256(seed: 1)
    perturb(
      &observations, rowCount: 64, width: width, decision: 0,
      .extremeValues(magnitude: 1e30), using: &generator)
    #expect(observations.allSatisfy { $0.isFinite })
    #expect(observations.allSatisfy { abs($0) <= 1e30 })
    #expect(observations.contains(1e30))
    #expect(observations.contains(-1e30))
  }

  @Test func nonFiniteEntriesHitEveryEntry() {
    var hits = Set<Int>()
    var generator = Xoshiro256(seed: 2)
    for decision in 0..<6 {
      var observations = [Float](repeating: 1, count: 256 * width)
      perturb(
        &observations, rowCount: 256, width: width, decision: decision,
        .nonFiniteEntries(fraction: 0.5), using: &generator)
      for (index, value) in observations.enumerated() where !value.isFinite {
        hits.insert(index % width)
      }
    }
    #expect(hits.count == width)
  }

  @Test func missingLevelsClearEveryLevel() {
    var observations = [Float](repeating: 7, count: 2 * width)
    var generator = Xoshiro256(seed: 3)
    perturb(
      &observations, rowCount: 2, width: width, decision: 0, .missingLevels, using: &generator)
    for entry in [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20] {
      #expect(observations[width + entry] == 0, "entry \(entry)")
    }
    #expect(observations[VancomycinObservation.weightKilograms] == 7)
  }

  @Test func stressProfilesReachTheirRanges() throws {
    let site = VerifiedSite(name: "icu_arc", population: "icu_arc")
    let policy = PolicyUnderTest.constant(doseMilligrams: 1000)
    func column(_ profile: StressProfile, _ name: String) throws -> [Double] {
      let record = try runCohort(
        CohortSpecification(kind: .stress(profile), site: site, patientCount: 32),
        definition: Fixtures.definition, policy: policy, seed: 4, streamIdentifier: 9)
      return try #require(record.table[column: name])
    }
    let renal = try column(.renalFailure, "creatinineClearanceMillilitersPerMinute")
    #expect(renal.allSatisfy { $0 >= 2 }, "\(renal)")
    #expect(renal.allSatisfy { $0 <= 12 }, "\(renal)")
    let augmented = try column(.augmentedClearance, "creatinineClearanceMillilitersPerMinute")
    #expect(augmented.allSatisfy { $0 >= 200 }, "\(augmented)")
    let light = try column(.lowWeight, "weightKilograms")
    #expect(light.allSatisfy { $0 >= 30 })
    #expect(light.allSatisfy { $0 <= 40 })
    let ages = try column(.ageExtremes, "ageYears")
    #expect(Set(ages) == [16, 105])
    let dialysis = try column(.haemodialysis, "haemodialysis")
    #expect(dialysis.allSatisfy { $0 == 1 })
  }
}

/// Errors of the verifier's initialiser.
@Suite struct VerifierSetupTests {
  @Test func missingThresholdsAreReported() {
    var definition = Fixtures.definition
    definition.safety = nil
    #expect(throws: SafetyVerificationError.missingExposureThresholds(environment: "vancomycin")) {
      try SafetyVerifier(definition: definition)
    }
  }

  @Test func unknownOutcomeAndPopulationAreReported() {
    let bad = ExposureThreshold(
      name: "x", outcome: "totalDoseMilligrams", description: "", maximumRate: 0.1)
    #expect(throws: SafetyVerificationError.self) {
      try SafetyVerifier(definition: Fixtures.definition, exposureThresholds: [bad])
    }
    #expect(throws: SafetyVerificationError.self) {
      try SafetyVerifier(
        definition: Fixtures.definition, sites: [VerifiedSite(name: "a", population: "ward")])
    }
    #expect(throws: SafetyVerificationError.noSites) {
      try SafetyVerifier(definition: Fixtures.definition, sites: [])
    }
  }

  @Test func invalidSettingsListEveryProblem() {
    var configuration = SafetyVerificationConfiguration()
    configuration.patientsPerCohort = 0
    configuration.sanityTolerance = 2
    configuration.perturbations = [.nonFiniteEntries(fraction: 0)]
    #expect(configuration.problems().count == 3)
    #expect(throws: SafetyVerificationError.self) {
      try SafetyVerifier(definition: Fixtures.definition, configuration: configuration)
    }
  }

  @Test func cohortPlanCoversSitesProfilesAndPerturbations() throws {
    let verifier = try SafetyVerifier(definition: Fixtures.definition)
    let cohorts = verifier.cohorts
    // 4 sites, 6 profiles on 3 distinct models, 4 perturbations on 4 sites.
    #expect(cohorts.count == 4 + 6 * 3 + 4 * 4)
    #expect(Set(cohorts.map(\.name)).count == cohorts.count)
  }
}
