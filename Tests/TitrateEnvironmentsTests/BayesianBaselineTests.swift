import Foundation
import Testing
import TitratePKPD

@testable import TitrateEnvironments

/// The `bayesian` baseline (MAP-guided AUC dosing) against forecasts made
/// here with the test's own closed-form AUC and hand-computed Goti 2018
/// typical parameters.
@Suite struct BayesianBaselineTests {
  /// Returns the shipped definition with the baseline switched on.
  static func definition(target: Double, troughCap: Double? = nil) -> EnvironmentDefinition {
    var definition = shippedDefinition
    definition.baselines.bayesian = BayesianBaseline(
      targetDailyAUCMilligramHoursPerLiter: target,
      maximumPredictedTroughMilligramsPerLiter: troughCap)
    return definition
  }

  /// Goti 2018 typical values for a 50-year-old 70-kg man with serum
  /// creatinine 1 mg/dL: Cockcroft-Gault (140 - 50) x 70 / 72 = 87.5 mL/min,
  /// CL = 4.5 (87.5 / 120)^0.8 L/h, V1 = 58.4 L, Q = 6.5 L/h, V2 = 38.4 L.
  static let typical = CompartmentalParameters(
    clearanceLitersPerHour: 4.5 * pow(87.5 / 120, 0.8), centralVolumeLiters: 58.4,
    intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4])

  /// Infusion hours of a dose: at least 1 h and at most 10 mg/min, rounded
  /// up to the 0.25-h simulation grid.
  static func infusionHours(_ dose: Double) -> Double {
    (max(1, dose / 600) / 0.25).rounded(.up) * 0.25
  }

  /// Forecast AUC of the first 24 h for `dose` at 0 h and again at 12 h.
  static func firstDayForecast(_ dose: Double) -> Double {
    let hours = infusionHours(dose)
    let infusions = [0.0, 12].map {
      Infusion(startHours: $0, doseMilligrams: dose, durationHours: hours)
    }
    return closedFormAUC(typical, infusions: infusions, from: 0, to: 24)
  }

  @Test(arguments: [400.0, 500, 600])
  func firstDoseMatchesTypicalForecast(target: Double) throws {
    let environment = try VancomycinEnvironment(
      definition: Self.definition(target: target), populationName: "icu_arc", batchSize: 2)
    _ = environment.reset(seed: 3)
    // The true parameters do not matter before the first level: the
    // estimate is the prior's typical patient for the covariates.
    try environment.setPatients([
      makePatient(parameters: gotiTypical),
      makePatient(
        parameters: CompartmentalParameters(
          clearanceLitersPerHour: 1, centralVolumeLiters: 20,
          intercompartmentalClearancesLitersPerHour: [2], peripheralVolumesLiters: [10])),
    ])
    #expect(environment.baselineNames == ["guideline", "oracle", "bayesian"])
    let actions = try environment.baselineActions(named: "bayesian")
    let levels = (0...12).map { Double($0) * 250 }
    let best = levels.min {
      abs(Self.firstDayForecast($0) - target) < abs(Self.firstDayForecast($1) - target)
    }!
    #expect(
      actions == [Float(best / 250), Float(best / 250)],
      "forecasts \(levels.map(Self.firstDayForecast))")
  }

  /// A trough cap keeps the largest dose whose true concentration 12 h
  /// later is at most the cap. The patient's true parameters are the
  /// prior's typical ones, and the simulation's own step gives the level.
  @Test func troughCapLimitsTheDose() throws {
    let cap = 6.0
    let environment = try VancomycinEnvironment(
      definition: Self.definition(target: 600, troughCap: cap), populationName: "icu_arc",
      batchSize: 1)
    _ = environment.reset(seed: 3)
    try environment.setPatients([makePatient(parameters: Self.typical)])
    let level = try #require(try environment.baselineActions(named: "bayesian").first)
    let uncapped = try VancomycinEnvironment(
      definition: Self.definition(target: 600), populationName: "icu_arc", batchSize: 1)
    _ = uncapped.reset(seed: 3)
    try uncapped.setPatients([makePatient(parameters: Self.typical)])
    #expect(try #require(try uncapped.baselineActions(named: "bayesian").first) > level)

    func troughAfter(_ level: Float) throws -> Double {
      let probe = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: "icu_arc", batchSize: 1)
      _ = probe.reset(seed: 3)
      try probe.setPatients([makePatient(parameters: Self.typical)])
      _ = probe.step(actions: [level])
      return probe.batch.amounts(of: .central)[0] / Self.typical.centralVolumeLiters
    }
    #expect(try troughAfter(level) <= cap)
    #expect(try troughAfter(level + 1) > cap)
  }

  /// A patient who clears the drug at a fifth of the typical rate gets
  /// lower doses once levels arrive. Its day-3 AUC ends far closer to the
  /// target than under the first dose repeated (closed form).
  @Test func levelsLowerDosesForSlowClearance() throws {
    let slow = CompartmentalParameters(
      clearanceLitersPerHour: Self.typical.clearanceLitersPerHour / 5, centralVolumeLiters: 58.4,
      intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4])
    let environment = try VancomycinEnvironment(
      definition: Self.definition(target: 500), populationName: "icu_arc", batchSize: 2)
    environment.recordsOutcomeTable = true
    _ = environment.reset(seed: 11)
    try environment.setPatients([
      makePatient(parameters: Self.typical), makePatient(parameters: slow),
    ])
    var doses: [[Float]] = []
    for _ in 0..<6 {
      let actions = try environment.baselineActions(named: "bayesian")
      doses.append(actions)
      _ = environment.step(actions: actions)
    }
    // Same covariates give the same first dose. Later doses differ.
    #expect(doses[0][0] == doses[0][1])
    #expect(doses[5][1] < doses[5][0], "doses \(doses)")
    let table = environment.drainOutcomeTable()
    let day3 = try #require(table[column: "day3AUC"])
    let firstDose = Double(doses[0][1]) * 250
    let repeated = (0..<6).map {
      Infusion(
        startHours: Double($0) * 12, doseMilligrams: firstDose,
        durationHours: Self.infusionHours(firstDose))
    }
    let withoutLevels = closedFormAUC(slow, infusions: repeated, from: 48, to: 72)
    #expect(
      abs(day3[1] - 500) < abs(withoutLevels - 500) / 3,
      "slow patient's day-3 AUC \(day3[1]), \(withoutLevels) without levels")
  }

  @Test func definitionRequiresMAPEstimates() {
    var tree = setting(
      shippedJSONTree(), ["baselines", "bayesian"],
      to: ["targetDailyAUCMilligramHoursPerLiter": 500])
    tree["bayesianEstimate"] = nil
    tree = setting(tree, ["safety", "shield"], to: nil)
    let paths = decodeError(tree)?.issues.map(\.path) ?? []
    #expect(paths.contains("baselines.bayesian"), "issues at \(paths)")

    let outOfRange = setting(
      shippedJSONTree(), ["baselines", "bayesian"],
      to: [
        "targetDailyAUCMilligramHoursPerLiter": -5, "maximumPredictedTroughMilligramsPerLiter": 0,
      ])
    let rangePaths = Set(decodeError(outOfRange)?.issues.map(\.path) ?? [])
    #expect(rangePaths.contains("baselines.bayesian.targetDailyAUCMilligramHoursPerLiter"))
    #expect(rangePaths.contains("baselines.bayesian.maximumPredictedTroughMilligramsPerLiter"))
  }

  @Test func absentSectionMeansUnknownBaseline() throws {
    var definition = shippedDefinition
    definition.baselines.bayesian = nil
    let environment = try VancomycinEnvironment(
      definition: definition, populationName: "icu_arc", batchSize: 1)
    #expect(
      throws: BaselineError.unknownBaseline(name: "bayesian", known: ["guideline", "oracle"])
    ) {
      _ = try environment.baselineActions(named: "bayesian")
    }
  }
}
