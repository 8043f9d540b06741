import Foundation
import TitrateEnvironments

/// The per-decision columns of `titrate simulate` for one environment
/// kind: values read before and after each step, completed from the
/// episode's outcome table where the environment records them there.
struct PKPDSimulationTable {
  let environment: PKPDEnvironment

  init(environment: PKPDEnvironment) { self.environment = environment }

  /// CSV column names, with units.
  var csvHeader: [String] {
    switch environment {
    case .warfarin:
      return ["day", "dose_mg", "inr_true_end_of_day", "inr_measured", "inr_drawn"]
    case .propofol:
      return ["time_min", "rate_ug_per_kg_min", "bis_true", "bis_measured", "ce_mg_per_l"]
    case .glucose:
      return ["time_min", "basal_u_per_h", "bolus_u", "bg_mg_per_dl", "cgm_mg_per_dl"]
    case .linear:
      return [
        "cycle", "dose_time_h", "dose_mg", "interval_h", "peak_mg_per_l", "trough_mg_per_l",
        "cycle_auc_mg_h_per_l",
      ]
    }
  }

  var header: [String] { csvHeader.map { $0.padding(toLength: 20, withPad: " ", startingAt: 0) } }

  func format(_ row: [Double]) -> String {
    row.map { String(format: "%-20.4g", $0) }.joined(separator: "  ")
  }

  /// Values known before the decision: its time and what was measured.
  func beforeStep(_ batch: any DosingEnvironment, decision: Int, observations: [Float])
    -> [Double]
  {
    switch environment {
    case .warfarin:
      // Observation entries 14 and 16 are the last reported INR and
      // whether it was drawn today.
      return [
        Double(decision + 1), .nan, .nan, Double(observations[14]),
        Double(observations[16]),
      ]
    case .propofol(let definition):
      return [Double(decision) * definition.dosing.decisionIntervalSeconds / 60]
    case .glucose(let definition):
      return [Double(decision * definition.sensor.sampleMinutes)]
    case .linear:
      let linear = batch as! LinearEnvironment
      return [Double(decision + 1), linear.cycleStartsHours[0]]
    }
  }

  /// Values known after the step: what was delivered and its effect.
  func afterStep(_ batch: any DosingEnvironment) -> [Double] {
    switch environment {
    case .warfarin: return []
    case .propofol:
      let propofol = batch as! PropofolEnvironment
      return [
        propofol.lastRatesMicrogramsPerKilogramPerMinute[0], propofol.trueBIS[0],
        propofol.measuredBIS[0], propofol.effectSiteConcentrationsMilligramsPerLiter[0],
      ]
    case .glucose:
      let glucose = batch as! GlucoseEnvironment
      return [
        glucose.lastDeliveredBasalUnitsPerHour[0], glucose.lastDeliveredBolusUnits[0],
        glucose.trueBloodGlucose[0], glucose.latestCGMMilligramsPerDeciliter[0],
      ]
    case .linear: return []
    }
  }

  /// Fills the columns the outcome table records (warfarin doses and true
  /// INRs, linear cycles).
  func completed(_ rows: [[Double]], outcomes: OutcomeTable) -> [[Double]] {
    func value(_ column: String) -> Double { outcomes[column: column]?.first ?? .nan }
    switch environment {
    case .warfarin:
      return rows.enumerated().map { index, row in
        var filled = row
        filled[1] = value("day\(index + 1)DoseMilligrams")
        filled[2] = value("day\(index + 2)TrueINR")
        return filled
      }
    case .linear:
      return rows.enumerated().map { index, row in
        let cycle = index + 1
        return [
          row[0], row[1], value("cycle\(cycle)DoseMilligrams"),
          value("cycle\(cycle)IntervalHours"), value("cycle\(cycle)PeakMilligramsPerLiter"),
          value("cycle\(cycle)TroughMilligramsPerLiter"), row.count > 2 ? row[2] : .nan,
        ]
      }
    default: return rows
    }
  }

  /// Describes the simulated patient. The warfarin, propofol and glucose
  /// patients are drawn from the population with `seed`, the seed their
  /// environment was reset with.
  func patientLine(_ batch: any DosingEnvironment, seed: UInt64) -> String {
    switch batch {
    case let warfarin as WarfarinEnvironment:
      let patient = warfarin.patients[0]
      return String(
        format: "patient: %.0f y, %.0f kg, CYP2C9 %@, VKORC1 %@ (drawn with seed %llu)",
        patient.ageYears, patient.weightKilograms, patient.cyp2c9.rawValue,
        patient.vkorc1.rawValue, seed)
    case let propofol as PropofolEnvironment:
      let patient = propofol.patients[0]
      return String(
        format: "patient: %.0f y, %.0f kg, %.0f cm, %@ (drawn with seed %llu)", patient.ageYears,
        patient.weightKilograms, patient.heightCentimeters, patient.isFemale ? "female" : "male",
        seed)
    case let glucose as GlucoseEnvironment:
      let patient = glucose.definition.patientTable.patients[glucose.patientIndices[0]]
      return "patient: \(patient.name) of the \(patient.group.rawValue) (drawn with seed \(seed))"
    case let linear as LinearEnvironment:
      let patient = linear.patients[0]
      let covariates = patient.covariates
      return String(
        format: "typical patient: %.0f y, %.0f kg, %@, CrCl %.0f mL/min; CL %.3g L/h, V1 %.3g L",
        covariates.ageYears, covariates.weightKilograms, covariates.isFemale ? "female" : "male",
        covariates.creatinineClearanceMillilitersPerMinute,
        patient.parameters.clearanceLitersPerHour, patient.parameters.centralVolumeLiters)
    default: return "patient"
    }
  }

  /// The kind's report columns for this patient, then for the linear
  /// kind the exact cumulative AUC.
  func summary(_ outcomes: OutcomeTable, batch: any DosingEnvironment) -> [String] {
    var lines = environment.columns.map { column in
      let value = outcomes[column: column.column]?.first ?? .nan
      let isFraction = column.percentWithInterval || column.column.hasPrefix("time")
      return isFraction
        ? String(format: "%@: %.1f%%", column.header, value * 100)
        : String(format: "%@: %.4g", column.header, value)
    }
    if case .linear = environment {
      let auc = outcomes[column: "cumulativeAUCMilligramHoursPerLiter"]?.first ?? .nan
      lines.append(String(format: "cumulative AUC: %.4g mg*h/L", auc))
    }
    return lines
  }
}
