import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the UVA/Padova batch model against simglucose and its invariants.
@Suite struct GlucoseModelTests {
  /// simglucose's trajectories keyed by patient name: (minute, BG with
  /// its default dopri5, BG with dopri5 at rtol 1e-11), mg/dL.
  static let reference: [String: [(minute: Int, defaultSolver: Double, tightSolver: Double)]] = {
    var rows: [String: [(minute: Int, defaultSolver: Double, tightSolver: Double)]] = [:]
    for row in readGlucoseCSV("reference.csv") {
      rows[row["patient"]!, default: []].append(
        (Int(row["minute"]!)!, Double(row["bg_dopri5"]!)!, Double(row["bg_tight"]!)!))
    }
    return rows
  }()

  /// Returns, per patient, the largest |BG - reference BG| over the
  /// reference samples with RK4 at `stepsPerMinute`.
  static func maximumErrors(stepsPerMinute: Int, tight: Bool) -> [String: Double] {
    let patients = glucoseDefinition.patientTable.patients
    var errors: [String: Double] = [:]
    ReferenceProtocol.run(patients, stepsPerMinute: stepsPerMinute) { minute, batch in
      guard minute % 15 == 0 else { return }
      let glucose = batch.bloodGlucose
      for (p, patient) in patients.enumerated() {
        let sample = reference[patient.name]![minute / 15]
        precondition(sample.minute == minute, "reference rows out of order")
        let expected = tight ? sample.tightSolver : sample.defaultSolver
        errors[patient.name] = max(errors[patient.name] ?? 0, abs(glucose[p] - expected))
      }
    }
    return errors
  }

  @Test func referenceCoversAllPatientsFor24Hours() {
    #expect(Self.reference.count == 30)
    for (name, rows) in Self.reference {
      #expect(rows.count == 97, "\(name)")
      #expect(rows.last?.minute == 1440, "\(name)")
    }
  }

  @Test func rk4AtOneMinuteMatchesSimglucose() {
    // RK4 with a 1-min step against dopri5 at rtol 1e-11 over the whole
    // protocol (BG 11-463 mg/dL). Measured: median of the per-patient
    // maxima 0.002 mg/dL, largest 0.18 (child#007), far below the 1 mg/dL
    // resolution of a CGM.
    let errors = Self.maximumErrors(stepsPerMinute: 1, tight: true)
    #expect(errors.count == 30)
    for (name, error) in errors.sorted(by: { $0.key < $1.key }) {
      #expect(error < 0.25, "\(name): max |BG error| \(error) mg/dL")
    }
  }

  @Test func rk4MatchesSimglucoseDefaultSolver() {
    // simglucose's own default dopri5 (rtol 1e-6) differs from the tight
    // solution by up to about 1e-4 mg/dL, so the bound is the same.
    let errors = Self.maximumErrors(stepsPerMinute: 1, tight: false)
    for (name, error) in errors.sorted(by: { $0.key < $1.key }) {
      #expect(error < 0.25, "\(name): max |BG error| \(error) mg/dL")
    }
  }

  @Test func halfMinuteStepConvergesToReference() {
    // Measured largest error 0.0048 mg/dL at 0.5 min (0.18 at 1 min).
    let errors = Self.maximumErrors(stepsPerMinute: 2, tight: true)
    for (name, error) in errors.sorted(by: { $0.key < $1.key }) {
      #expect(error < 0.01, "\(name): max |BG error| \(error) mg/dL")
    }
  }

  @Test func basalOnlyKeepsEveryPatientAtBasalGlucose() {
    // The table's initial states are the basal steady states, so with the
    // basal rate u2ss and no meal BG stays at Gb for 24 h.
    let patients = glucoseDefinition.patientTable.patients
    let batch = GlucosePatientBatch(
      patients: patients, stepsPerMinute: 1, eatingRateGramsPerMinute: 5)
    let zeros = [Double](repeating: 0, count: patients.count)
    let basal = patients.map(\.parameters.basalUnitsPerMinute)
    for _ in 0..<1440 {
      batch.advanceMinute(announcedGrams: zeros, insulinUnitsPerMinute: basal)
    }
    for (p, patient) in patients.enumerated() {
      let drift = abs(batch.bloodGlucose[p] - patient.parameters.gb)
      #expect(drift < 1e-6, "\(patient.name): BG drifted \(drift) mg/dL from Gb")
    }
  }

  @Test func mealRaisesAndBolusLowersGlucose() {
    let patient = glucoseDefinition.patients(in: .adults)[0]
    var peaks: [Double] = []
    for bolusUnits in [0.0, 5.0] {
      let batch = GlucosePatientBatch(
        patients: [patient], stepsPerMinute: 1, eatingRateGramsPerMinute: 5)
      var peak = 0.0
      for minute in 0..<300 {
        let insulin =
          patient.parameters.basalUnitsPerMinute + (minute == 0 ? bolusUnits : 0)
        batch.advanceMinute(
          announcedGrams: [minute == 0 ? 60 : 0], insulinUnitsPerMinute: [insulin])
        peak = max(peak, batch.bloodGlucose[0])
      }
      peaks.append(peak)
    }
    #expect(peaks[0] > patient.parameters.gb + 50)
    #expect(peaks[1] < peaks[0])
  }

  @Test func eatingFollowsFiveGramsPerMinute() {
    let patient = glucoseDefinition.patientTable.patients[0]
    let batch = GlucosePatientBatch(
      patients: [patient], stepsPerMinute: 1, eatingRateGramsPerMinute: 5)
    var eaten: [Double] = []
    for minute in 0..<5 {
      eaten += batch.advanceMinute(
        announcedGrams: [minute == 0 ? 12 : 0],
        insulinUnitsPerMinute: [patient.parameters.basalUnitsPerMinute])
    }
    #expect(eaten == [5, 5, 2, 0, 0])
    // Dbar is the stomach content at the start (0) plus 12 g in mg.
    #expect(batch.model.mealSizeMilligrams[0] == 12_000)
  }
}
