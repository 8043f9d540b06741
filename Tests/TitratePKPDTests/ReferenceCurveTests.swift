import Foundation
import Testing

@testable import TitratePKPD

/// Batched exact stepping against scipy `solve_ivp` (Radau, rtol 1e-10,
/// atol 1e-12). Regenerate the fixtures with
/// `python3 scripts/reference_pk.py` from the repository root.
///
/// Tolerance: 1e-9 relative, with a floor of 1e-6 of the curve's maximum
/// for values near zero. The largest error seen on these fixtures was
/// 2.8e-11, within what the integrator's rtol of 1e-10 allows.
@Suite struct ReferenceCurveTests {
  static let relativeTolerance = 1e-9

  @Test(arguments: [
    "two_compartment_infusions.json", "three_compartment_effect_site.json",
    "first_order_absorption.json",
  ])
  func batchMatchesSolveIVP(fixtureName: String) throws {
    let fixture = try loadFixture(CurveFixture.self, named: fixtureName)
    let batch = try PharmacokineticBatch(
      parameters: fixture.patients.map(\.parameters), stepHours: fixture.stepHours)
    let (concentrations, aucs, effects) = simulate(batch, fixture: fixture)

    for (patientIndex, patient) in fixture.patients.enumerated() {
      compare(
        concentrations[patientIndex], patient.centralConcentrationMilligramsPerLiter,
        what: "\(fixtureName) patient \(patientIndex) concentration")
      compare(
        aucs[patientIndex], patient.centralAUCMilligramHoursPerLiter,
        what: "\(fixtureName) patient \(patientIndex) AUC")
      if let expected = patient.effectSiteConcentrationMilligramsPerLiter {
        compare(
          effects[patientIndex], expected,
          what: "\(fixtureName) patient \(patientIndex) effect site")
      }
    }
  }

  /// Runs the fixture's dose list on the grid and records every patient's
  /// central concentration, AUC and (if present) effect-site concentration
  /// at each grid time, after any bolus given at that time.
  private func simulate(_ batch: PharmacokineticBatch, fixture: CurveFixture)
    -> ([[Double]], [[Double]], [[Double]])
  {
    let patients = batch.patientCount
    var concentrations = [[Double]](repeating: [], count: patients)
    var aucs = concentrations
    var effects = concentrations
    let h = fixture.stepHours
    for (step, time) in fixture.timesHours.enumerated() {
      for dose in fixture.doses where dose.durationHours == 0 {
        if abs(dose.timeHours - time) < 1e-9 {
          let component: StateComponent = dose.into == "depot" ? .depot : .central
          batch.addBolus(
            milligrams: Array(repeating: dose.amountMilligrams, count: patients),
            into: component)
        }
      }
      let concentration = batch.centralConcentrationsMilligramsPerLiter()
      let auc = batch.centralAUC()
      let effect = batch.structure.hasEffectSite ? batch.stateValues(of: .effectSite) : auc
      for p in 0..<patients {
        concentrations[p].append(concentration[p])
        aucs[p].append(auc[p])
        effects[p].append(effect[p])
      }
      if step == fixture.timesHours.count - 1 { break }

      // Infusions in the fixtures start and stop on grid times, so the rate
      // over [t, t + h) is the sum of the infusions running at t.
      var rate = 0.0
      for dose in fixture.doses where dose.durationHours > 0 {
        if time >= dose.timeHours - 1e-9, time < dose.timeHours + dose.durationHours - 1e-9 {
          rate += dose.amountMilligrams / dose.durationHours
        }
      }
      precondition(abs(fixture.timesHours[step + 1] - time - h) < 1e-9)
      batch.advance(infusionRatesMilligramsPerHour: Array(repeating: rate, count: patients))
    }
    return (concentrations, aucs, effects)
  }

  private func compare(_ actual: [Double], _ expected: [Double], what: String) {
    #expect(actual.count == expected.count, "\(what): length")
    let floor = 1e-6 * (expected.map(abs).max() ?? 1)
    var worst = 0.0
    var worstIndex = 0
    for (index, (value, reference)) in zip(actual, expected).enumerated() {
      let error = relativeError(value, reference, floor: floor)
      if error > worst {
        worst = error
        worstIndex = index
      }
    }
    #expect(
      worst <= Self.relativeTolerance,
      "\(what): worst relative error \(worst) at grid index \(worstIndex)")
  }
}
