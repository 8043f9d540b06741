import Testing
import TitratePKPD

@testable import TitrateEnvironments

@Suite struct IntervalAUCPredictorTests {
  /// Carry-over plus a new infusion, predicted in closed form, against the
  /// PK core's exact stepping of the same schedule.
  @Test(arguments: [
    gotiTypical,
    CompartmentalParameters(clearanceLitersPerHour: 6.5, centralVolumeLiters: 63.7),
  ])
  func predictionMatchesPharmacokineticBatch(parameters: CompartmentalParameters) throws {
    let stepHours = 0.25
    let batch = try PharmacokineticBatch(parameters: [parameters], stepHours: stepHours)
    // 1500 mg over 2.5 h at t = 0, then simulate to 12 h.
    for step in 0..<48 { batch.advance(infusionRatesMilligramsPerHour: [step < 10 ? 600 : 0]) }
    let aucBefore = batch.centralAUC()[0]
    let central = batch.amounts(of: .central)[0]
    let peripheral = parameters.peripheralCount > 0 ? batch.amounts(of: .peripheral(0))[0] : 0
    // 1000 mg over 1.75 h at 12 h, then to 24 h.
    for step in 0..<48 { batch.advance(infusionRatesMilligramsPerHour: [step < 7 ? 1000 / 1.75 : 0]) }
    let simulated = batch.centralAUC()[0] - aucBefore
    let predictor = IntervalAUCPredictor(parameters: parameters)
    let predicted =
      predictor.carryOverAUC(
        centralMilligrams: central, peripheralMilligrams: peripheral, horizonHours: 12)
      + predictor.infusionAUC(doseMilligrams: 1000, durationHours: 1.75, horizonHours: 12)
    #expect(abs(predicted - simulated) <= 1e-8 * simulated)
  }

  @Test func infusionAUCOverLongHorizonIsDoseOverClearance() {
    let predictor = IntervalAUCPredictor(parameters: gotiTypical)
    let auc = predictor.infusionAUC(doseMilligrams: 1000, durationHours: 1, horizonHours: 2000)
    #expect(abs(auc - 1000 / 4.5) < 1e-9)
    #expect(abs(predictor.impulseCoefficients.reduce(0, +) - 1) < 1e-12)
  }
}
