import Foundation
import Testing

@testable import TitrateEnvironments

/// The MAP prediction of the next trough and its Laplace posterior spread,
/// checked against the true troughs of simulated patients: the spread that
/// the predictive shield moves by must match the real prediction error.
@Suite struct PredictionCalibrationTests {
  /// Standardised errors of the predicted next trough, log(true /
  /// predicted) over the posterior standard deviation of the log
  /// prediction, at decisions 3 to 6 of guideline dosing (1 and 2 see at
  /// most one level). The prior (Goti 2018) is the true model at these
  /// sites, so the errors should be standard normal: mean near 0, standard
  /// deviation near 1. Values on 400 patients: mean -0.16 to 0.11,
  /// standard deviation 0.86 to 1.03.
  @Test(arguments: ["icu_arc", "obese"])
  func standardisedErrorsAreStandard(population: String) throws {
    let errors = try Self.standardisedErrors(population: population)
    #expect(errors.count > 1200)
    let (mean, standardDeviation) = Self.moments(errors)
    #expect(abs(mean) < 0.25, "mean standardised error \(mean)")
    #expect(standardDeviation > 0.75, "standard deviation \(standardDeviation)")
    #expect(standardDeviation < 1.25, "standard deviation \(standardDeviation)")
  }

  /// The haematology site's true model (Buelga 2005) is not the prior, and
  /// the check detects it: the predictions run high (mean standardised error
  /// -1.14 on 400 patients), so a calibrated spread is no substitute for
  /// the right prior.
  @Test func wrongPriorShowsAsBias() throws {
    let (mean, _) = Self.moments(try Self.standardisedErrors(population: "haematology"))
    #expect(mean < -0.5, "mean standardised error \(mean)")
  }

  static func moments(_ values: [Double]) -> (mean: Double, standardDeviation: Double) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
    return (mean, variance.squareRoot())
  }

  /// Returns log(true / predicted) over the posterior standard deviation
  /// of the log prediction, for every next trough at decisions 3 to 6 of
  /// guideline dosing of 400 patients.
  static func standardisedErrors(population: String) throws -> [Double] {
    let count = 400
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: population, batchSize: count)
    environment.recordsOutcomeTable = true
    let width = environment.observationSize
    let estimator = try #require(environment.bayesianEstimate?.estimator)
    var observations = environment.reset(seed: 7)
    var predictions: [[Double]] = []
    var spreads: [[Double]] = []
    let interval = shippedDefinition.dosing.decisionIntervalHours
    var perThousand: [[Double]] = []

    for decision in 0..<6 {
      let actions = try environment.baselineActions(named: "guideline")
      // The relative spread is taken for the prediction without the new
      // dose. The dose adds a term that moves with the same parameters, so
      // the relative spread with it is close to this one.
      let time = Double(decision + 1) * interval
      spreads.append(
        (0..<count).map { p in
          let base = estimator.predictedConcentration(patient: p, timeHours: time)
          guard base > 0.5 else { return 0 }
          let etas = estimator.pessimisticEtas(patient: p, standardDeviations: 1) {
            estimator.predictedConcentration(patient: p, etas: $0, timeHours: time)
          }
          return log(
            estimator.predictedConcentration(patient: p, etas: etas, timeHours: time) / base)
        })
      predictions.append(
        (0..<count).map {
          Double(
            observations[
              $0 * width + VancomycinObservation.predictedNextTroughWithoutDoseMilligramsPerLiter])
        })
      perThousand.append(
        (0..<count).map {
          Double(
            observations[
              $0 * width
                + VancomycinObservation.predictedNextTroughPer1000MilligramsMilligramsPerLiter])
        })
      observations = environment.step(actions: actions).observations
    }

    let table = environment.drainOutcomeTable()
    var errors: [Double] = []
    for decision in 3...6 {
      let given = try #require(table[column: "dose\(decision)Milligrams"])
      let troughs = try #require(table[column: "trough\(decision)MilligramsPerLiter"])
      for p in 0..<count {
        let predicted =
          predictions[decision - 1][p] + perThousand[decision - 1][p] * given[p] / 1000
        let spread = spreads[decision - 1][p]
        guard predicted > 0.5, troughs[p] > 0.5, spread > 0 else { continue }
        errors.append(log(troughs[p] / predicted) / spread)
      }
    }
    return errors
  }
}
