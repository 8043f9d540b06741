import Foundation
import Testing
import TitratePKPD

@testable import TitrateEnvironments

@Suite struct BayesianObservationTests {
  /// The shipped definition without the `bayesianEstimate` section (and
  /// so without the shield and the bayesian baseline, which need it).
  static let withoutSection: EnvironmentDefinition = {
    var tree = setting(shippedJSONTree(), ["safety", "shield"], to: NSNull())
    tree = setting(tree, ["baselines", "bayesian"], to: nil)
    tree["bayesianEstimate"] = nil
    let data = try! JSONSerialization.data(withJSONObject: tree)
    return try! EnvironmentDefinition.decode(from: data)
  }()

  /// The shipped definition with every model's residual error set to 0.
  static let noiseFree: EnvironmentDefinition = {
    var tree = shippedJSONTree()
    var models = tree["models"] as! [String: Any]
    for key in models.keys {
      models[key] = setting(
        models[key] as! [String: Any], ["residualError"],
        to: ["additiveMilligramsPerLiter": 0, "proportional": 0])
    }
    tree["models"] = models
    let data = try! JSONSerialization.data(withJSONObject: tree)
    return try! EnvironmentDefinition.decode(from: data)
  }()

  /// Goti 2018 typical values for `makePatient()` (50 years, 70 kg, male,
  /// SCr 1 mg/dL): CrCl = 90 x 70 / 72 = 87.5 mL/min.
  static let gotiClearance = 4.5 * pow(87.5 / 120, 0.8)

  /// Patients whose CL is `factor` times the Goti typical value.
  static func patients(clearanceFactors factors: [Double]) -> [VirtualPatient] {
    factors.map { factor in
      makePatient(
        parameters: CompartmentalParameters(
          clearanceLitersPerHour: gotiClearance * factor, centralVolumeLiters: 58.4,
          intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4]))
    }
  }

  static func estimatedClearances(_ observations: [Float], width: Int) -> [Double] {
    stride(from: 0, to: observations.count, by: width).map {
      Double(observations[$0 + VancomycinObservation.estimatedClearanceLitersPerHour])
    }
  }

  @Test func layoutWithSection() throws {
    #expect(shippedDefinition.bayesianEstimate?.priorModel == "goti2018")
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: 2)
    #expect(environment.observationSize == VancomycinObservation.countWithBayesianEstimate)
    let names = VancomycinObservation.names(for: shippedDefinition)
    #expect(names.count == VancomycinObservation.countWithBayesianEstimate)
    #expect(Set(names).count == names.count)
    #expect(names[VancomycinObservation.estimatedClearanceLitersPerHour] == "estimatedClearanceLitersPerHour")
    #expect(
      names[VancomycinObservation.predictedNextTroughPer1000MilligramsMilligramsPerLiter]
        == "predictedNextTroughPer1000MilligramsMilligramsPerLiter")
    #expect(environment.reset(seed: 1).count == 2 * 29)
  }

  @Test func layoutWithoutSectionKeeps22() throws {
    let environment = try VancomycinEnvironment(
      definition: Self.withoutSection, populationName: "icu_arc", batchSize: 2)
    #expect(environment.observationSize == VancomycinObservation.count)
    #expect(VancomycinObservation.names(for: Self.withoutSection).count == 22)
    #expect(VancomycinObservation.names(for: Self.withoutSection).last == "intensiveCare")
    #expect(environment.reset(seed: 1).count == 2 * 22)
    #expect(environment.step(actions: [4, 4]).observations.count == 2 * 22)
  }

  @Test func firstColumnsMatchDefinitionWithoutSection() throws {
    let with = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "obese", batchSize: 3)
    let without = try VancomycinEnvironment(
      definition: Self.withoutSection, populationName: "obese", batchSize: 3)
    var rowsWith = with.reset(seed: 5)
    var rowsWithout = without.reset(seed: 5)
    for _ in 0..<3 {
      for p in 0..<3 {
        #expect(
          Array(rowsWith[(p * 29)..<(p * 29 + 21)]) == Array(rowsWithout[(p * 22)..<(p * 22 + 21)]))
        // The care-setting entry ends both rows.
        #expect(rowsWith[p * 29 + 28] == rowsWithout[p * 22 + 21])
      }
      rowsWith = with.step(actions: [3, 5, 8]).observations
      rowsWithout = without.step(actions: [3, 5, 8]).observations
    }
  }

  @Test func resetGivesPriorTypicalValues() throws {
    // The true model is Thomson 2009, but the prior is Goti 2018.
    let fresh = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "elderly_renal", batchSize: 1)
    _ = fresh.reset(seed: 2)
    try fresh.setPatients(Self.patients(clearanceFactors: [1]))
    let observation = fresh.observations()
    let clearance = Double(observation[VancomycinObservation.estimatedClearanceLitersPerHour])
    #expect(abs(clearance - Self.gotiClearance) <= 1e-5 * Self.gotiClearance)
    #expect(observation[VancomycinObservation.estimatedCentralVolumeLiters] == 58.4)
    #expect(observation[VancomycinObservation.estimatedPeripheralVolumeLiters] == 38.4)
    #expect(observation[VancomycinObservation.predictedAUC24WithoutDoseMilligramHoursPerLiter] == 0)
    #expect(observation[VancomycinObservation.predictedNextTroughWithoutDoseMilligramsPerLiter] == 0)
    // 1000 mg over 1.75 h into the typical patient: AUC24 from the closed form.
    let typical = CompartmentalParameters(
      clearanceLitersPerHour: Self.gotiClearance, centralVolumeLiters: 58.4,
      intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4])
    let expectedAUC = closedFormAUC(
      typical, infusions: [Infusion(startHours: 0, doseMilligrams: 1000, durationHours: 1.75)],
      from: 0, to: 24)
    let auc = Double(
      observation[VancomycinObservation.predictedAUC24Per1000MilligramsMilligramHoursPerLiter])
    #expect(abs(auc - expectedAUC) <= 1e-5 * expectedAUC)
  }

  @Test func noiseFreeEstimateFindsTrueClearance() throws {
    let factors = [0.35, 0.5, 2, 3]
    let environment = try VancomycinEnvironment(
      definition: Self.noiseFree, populationName: "icu_arc", batchSize: factors.count)
    _ = environment.reset(seed: 3)
    try environment.setPatients(Self.patients(clearanceFactors: factors))
    var observations: [Float] = []
    for _ in 0..<4 { observations = environment.step(actions: [4, 4, 4, 4]).observations }
    let estimates = Self.estimatedClearances(observations, width: 29)
    for (p, factor) in factors.enumerated() {
      let truth = Self.gotiClearance * factor
      #expect(abs(estimates[p] - truth) <= 0.02 * truth, "patient \(p): \(estimates[p]) vs \(truth)")
    }

    // With the model recovered, entries 26 + 27 predict the next true trough
    // after 1000 mg (level 4, the same infusion time as the reference).
    let predicted = (0..<factors.count).map { p in
      Double(
        observations[p * 29 + VancomycinObservation.predictedNextTroughWithoutDoseMilligramsPerLiter]
          + observations[
            p * 29 + VancomycinObservation.predictedNextTroughPer1000MilligramsMilligramsPerLiter])
    }
    _ = environment.step(actions: [4, 4, 4, 4])
    let trueTroughs = environment.batch.centralConcentrationsMilligramsPerLiter()
    for p in 0..<factors.count {
      #expect(
        abs(predicted[p] - trueTroughs[p]) <= 0.02 * trueTroughs[p],
        "patient \(p): \(predicted[p]) vs \(trueTroughs[p])")
    }
  }

  @Test func noisyEstimateMovesTowardsTrueClearance() throws {
    let count = 200
    let factors = (0..<count).map { $0 % 2 == 0 ? 0.4 : 2.5 }
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: count)
    _ = environment.reset(seed: 4)
    try environment.setPatients(Self.patients(clearanceFactors: factors))
    var observations: [Float] = []
    for _ in 0..<4 {
      observations = environment.step(actions: [Float](repeating: 4, count: count)).observations
    }
    let estimates = Self.estimatedClearances(observations, width: 29)
    var logRatios = (low: 0.0, high: 0.0)
    for p in 0..<count {
      let ratio = log(estimates[p] / Self.gotiClearance)
      if factors[p] < 1 { logRatios.low += ratio } else { logRatios.high += ratio }
    }
    let half = Double(count / 2)
    // Truth: ln 0.4 = -0.92 and ln 2.5 = 0.92; the prior alone gives 0.
    // MAP estimates shrink towards the prior, so require a third of the way.
    #expect(logRatios.low / half < -0.3, "mean log ratio \(logRatios.low / half)")
    #expect(logRatios.high / half > 0.3, "mean log ratio \(logRatios.high / half)")
  }

  @Test func observationsAreDeterministic() throws {
    func run() throws -> [Float] {
      let environment = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: "haematology", batchSize: 5)
      var rows = environment.reset(seed: 9)
      for step in 0..<6 {
        rows += environment.step(actions: [Float](repeating: Float(step % 3 + 3), count: 5))
          .observations
      }
      return rows
    }
    #expect(try run() == run())
  }

  @Test func estimateResetsWithEpisode() throws {
    let environment = try VancomycinEnvironment(
      definition: Self.noiseFree, populationName: "icu_arc", batchSize: 1)
    _ = environment.reset(seed: 6)
    try environment.setPatients(Self.patients(clearanceFactors: [3]))
    var last = EnvironmentStep(
      observations: [], rewards: [], costs: [], terminated: [], truncated: [],
      finalObservations: [])
    for _ in 0..<shippedDefinition.dosing.decisionsPerEpisode {
      last = environment.step(actions: [4])
    }
    #expect(last.terminated == [true])
    let finalClearance = Double(
      last.finalObservations[VancomycinObservation.estimatedClearanceLitersPerHour])
    #expect(finalClearance > 2 * Self.gotiClearance)
    // The new episode's patient starts at the prior with no doses.
    #expect(last.observations[VancomycinObservation.predictedAUC24WithoutDoseMilligramHoursPerLiter] == 0)
    #expect(environment.bayesianEstimate!.estimator.levelCount(patient: 0) == 0)
  }

  @Test func unknownPriorModelIsRejected() {
    let tree = setting(shippedJSONTree(), ["bayesianEstimate", "priorModel"], to: "goti2019")
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.count == 1)
    #expect(issues.first?.path == "bayesianEstimate.priorModel")
    #expect(issues.first?.message.contains("Did you mean \"goti2018\"?") == true)
  }

  @Test func unknownKeyInSectionIsRejected() {
    let tree = setting(shippedJSONTree(), ["bayesianEstimate", "iterations"], to: 5)
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.map(\.path) == ["bayesianEstimate.iterations"])
  }

  @Test func nullSectionMeansAbsent() throws {
    var tree = setting(shippedJSONTree(), ["safety", "shield"], to: NSNull())
    tree = setting(tree, ["baselines", "bayesian"], to: nil)
    tree["bayesianEstimate"] = NSNull()
    let data = try JSONSerialization.data(withJSONObject: tree)
    let definition = try EnvironmentDefinition.decode(from: data)
    #expect(definition.bayesianEstimate == nil)
  }
}
