import Foundation
import Testing

@testable import TitratePKPD

/// Closed-form oracles for a 1-compartment IV model with
/// k = CL / V: bolus C = D/V e^(-kt); infusion at R mg/h for T h gives
/// C = R/CL (1 - e^(-kt)) during and C(T) e^(-k(t - T)) after.
@Suite struct OneCompartmentTests {
  static let clearance = 4.5
  static let volume = 58.4
  static let parameters = CompartmentalParameters(
    clearanceLitersPerHour: clearance, centralVolumeLiters: volume)
  static let k = clearance / volume
  static let tolerance = 1e-9

  @Test func bolusDecaysExponentially() throws {
    let batch = try PharmacokineticBatch(parameters: [Self.parameters], stepHours: 0.5)
    let dose = 1000.0
    batch.addBolus(milligrams: [dose], into: .central)
    for step in 0...96 {
      let hours = Double(step) * 0.5
      let expected = dose / Self.volume * exp(-Self.k * hours)
      let actual = batch.centralConcentrationsMilligramsPerLiter()[0]
      #expect(relativeError(actual, expected, floor: 1e-300) <= Self.tolerance, "t = \(hours) h")
      batch.advance(infusionRatesMilligramsPerHour: [0])
    }
  }

  @Test func bolusAUCEqualsDoseOverClearance() throws {
    // After 40 half-lives (about 360 h) the remaining area is e^-27 of D/CL.
    let batch = try PharmacokineticBatch(parameters: [Self.parameters], stepHours: 1)
    batch.addBolus(milligrams: [1000], into: .central)
    let halfLifeHours = log(2) / Self.k
    for _ in 0..<Int((40 * halfLifeHours).rounded(.up)) {
      batch.advance(infusionRatesMilligramsPerHour: [0])
    }
    let expected = 1000 / Self.clearance
    #expect(relativeError(batch.centralAUC()[0], expected, floor: 1) <= Self.tolerance)
  }

  @Test func infusionRisesAndDecays() throws {
    let stepHours = 0.25
    let batch = try PharmacokineticBatch(parameters: [Self.parameters], stepHours: stepHours)
    let rate = 750.0
    let infusionHours = 2.0
    let endOfInfusion = rate / Self.clearance * (1 - exp(-Self.k * infusionHours))
    for step in 0...96 {
      let hours = Double(step) * stepHours
      let expected =
        hours <= infusionHours
        ? rate / Self.clearance * (1 - exp(-Self.k * hours))
        : endOfInfusion * exp(-Self.k * (hours - infusionHours))
      let actual = batch.centralConcentrationsMilligramsPerLiter()[0]
      #expect(relativeError(actual, expected, floor: 1e-12) <= Self.tolerance, "t = \(hours) h")
      batch.advance(infusionRatesMilligramsPerHour: [hours < infusionHours ? rate : 0])
    }
  }

  @Test func aucDuringInfusionMatchesIntegral() throws {
    // Integral of R/CL (1 - e^-kt) from 0 to T = R/CL (T - (1 - e^-kT)/k).
    let batch = try PharmacokineticBatch(parameters: [Self.parameters], stepHours: 0.25)
    for _ in 0..<8 { batch.advance(infusionRatesMilligramsPerHour: [500]) }
    let hours = 2.0
    let expected = 500 / Self.clearance * (hours - (1 - exp(-Self.k * hours)) / Self.k)
    #expect(relativeError(batch.centralAUC()[0], expected, floor: 1) <= Self.tolerance)
  }

  @Test func steadyStateDailyAUCEqualsDailyDoseOverClearance() throws {
    // 2-compartment vancomycin-like patient, 1000 mg over 1 h q12h for
    // 20 days; AUC over the last 24 h must equal 2000 mg / CL. The terminal
    // half-life is about 20 h, so 20 days leave a residual below 1e-7.
    let parameters = CompartmentalParameters(
      clearanceLitersPerHour: 4.5, centralVolumeLiters: 58.4,
      intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4])
    let stepHours = 0.5
    let batch = try PharmacokineticBatch(parameters: [parameters], stepHours: stepHours)
    let stepsPerDose = Int(12 / stepHours)
    var aucAtStartOfLastDay = 0.0
    for dose in 0..<40 {
      if dose == 38 { aucAtStartOfLastDay = batch.centralAUC()[0] }
      for step in 0..<stepsPerDose {
        batch.advance(infusionRatesMilligramsPerHour: [Double(step) * stepHours < 1 ? 1000 : 0])
      }
    }
    let dailyAUC = batch.centralAUC()[0] - aucAtStartOfLastDay
    #expect(relativeError(dailyAUC, 2000 / 4.5, floor: 1) <= 1e-6)
  }
}
