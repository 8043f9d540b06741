import Foundation
import Testing

@testable import TitratePKPD

@Suite struct InfusionResponseTests {
  static let twoCompartment = CompartmentalParameters(
    clearanceLitersPerHour: 4.5, centralVolumeLiters: 58.4,
    intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4])
  static let oneCompartment = CompartmentalParameters(
    clearanceLitersPerHour: 6.48, centralVolumeLiters: 63.7)

  /// Infusions as (start step, steps, dose mg) on a 0.25-h grid.
  static let schedule: [(start: Int, steps: Int, dose: Double)] = [
    (0, 8, 2000), (48, 5, 1250), (96, 4, 1000),
  ]

  /// Compares superposed closed-form responses with the matrix-exponential
  /// stepping of `PharmacokineticBatch` at every grid point.
  @Test(arguments: [twoCompartment, oneCompartment])
  func superpositionMatchesBatch(parameters: CompartmentalParameters) throws {
    let stepHours = 0.25
    let batch = try PharmacokineticBatch(parameters: [parameters], stepHours: stepHours)
    let response = InfusionResponse(parameters: parameters)
    for step in 0..<144 {
      var rate = 0.0
      for infusion in Self.schedule where (infusion.start..<(infusion.start + infusion.steps))
        .contains(step)
      {
        rate += infusion.dose / (Double(infusion.steps) * stepHours)
      }
      batch.advance(infusionRatesMilligramsPerHour: [rate])
      let time = Double(step + 1) * stepHours
      var concentration = 0.0
      var auc = 0.0
      for infusion in Self.schedule {
        let duration = Double(infusion.steps) * stepHours
        let elapsed = time - Double(infusion.start) * stepHours
        concentration += response.concentration(
          rateMilligramsPerHour: infusion.dose / duration, durationHours: duration,
          elapsedHours: elapsed)
        auc += response.cumulativeAUC(
          rateMilligramsPerHour: infusion.dose / duration, durationHours: duration,
          elapsedHours: elapsed)
      }
      let expectedConcentration = batch.centralConcentrationsMilligramsPerLiter()[0]
      let expectedAUC = batch.centralAUC()[0]
      #expect(
        abs(concentration - expectedConcentration) <= 1e-9 * expectedConcentration,
        "concentration at \(time) h")
      #expect(abs(auc - expectedAUC) <= 1e-9 * expectedAUC, "AUC at \(time) h")
    }
  }

  @Test func nothingBeforeInfusionStart() {
    let response = InfusionResponse(parameters: Self.twoCompartment)
    #expect(
      response.concentration(rateMilligramsPerHour: 1000, durationHours: 1, elapsedHours: -2)
        == 0)
    #expect(
      response.cumulativeAUC(rateMilligramsPerHour: 1000, durationHours: 1, elapsedHours: 0)
        == 0)
  }

  @Test func impulseCoefficientsSumToInverseVolume() {
    let response = InfusionResponse(parameters: Self.twoCompartment)
    let sum = response.coefficients.0 + response.coefficients.1
    #expect(abs(sum - 1 / 58.4) <= 1e-15)
    #expect(response.rates.0 > response.rates.1)
    #expect(response.exponentialCount == 2)
  }
}
