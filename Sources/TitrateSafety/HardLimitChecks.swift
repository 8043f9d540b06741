import TitrateEnvironments

/// Maxima and minima of the delivered doses of a set of cohorts, measured
/// independently of `DoseActuator`: from the dose sequence each patient
/// received and the dosing rules.
struct DeliveredDoseMeasurement {
  /// Doses counted (decisions x patients over all cohorts).
  var doses = 0
  /// Delivered doses that are NaN, infinite, negative, or not a multiple
  /// of the actuator's increment.
  var undeliverableDoses = 0
  var largestDoseMilligrams = 0.0
  var largestDoseCohort = ""
  /// Largest total of the doses started within any 24 h, mg.
  var largest24HourTotalMilligrams = 0.0
  var largest24HourTotalCohort = ""
  /// Fastest infusion rate of a non-zero dose, mg/min.
  var fastestInfusionMilligramsPerMinute = 0.0
  /// Shortest infusion of a non-zero dose, h (infinity when none).
  var shortestInfusionHours = Double.infinity
  /// Largest request the policy made, mg (NaN requests skipped).
  var largestRequestMilligrams = -Double.infinity
  /// Largest |sum of delivered doses - outcome table total| of a patient.
  var largestAccountingDifferenceMilligrams = 0.0

  /// Adds one patient's delivered doses.
  /// - Parameters:
  ///   - doses: delivered doses in decision order, mg.
  ///   - intervalHours: hours between decisions.
  mutating func add(
    doses patientDoses: [Double], intervalHours: Double, rules: DosingRules,
    limits: ActuatorLimits, cohort: String
  ) {
    for (index, dose) in patientDoses.enumerated() {
      doses += 1
      let increments = dose / limits.doseIncrementMilligrams
      if !dose.isFinite || dose < 0 || abs(increments - increments.rounded()) > 1e-9 {
        undeliverableDoses += 1
        continue
      }
      if dose > largestDoseMilligrams {
        largestDoseMilligrams = dose
        largestDoseCohort = cohort
      }
      // Doses started less than 24 h before this one, this one included;
      // a dose exactly 24 h earlier is outside the window.
      var total = 0.0
      for earlier in stride(from: index, through: 0, by: -1) {
        guard Double(index - earlier) * intervalHours < 24 - 1e-9 else { break }
        total += patientDoses[earlier].isFinite ? patientDoses[earlier] : 0
      }
      if total > largest24HourTotalMilligrams {
        largest24HourTotalMilligrams = total
        largest24HourTotalCohort = cohort
      }
      guard dose > 0 else { continue }
      let hours = rules.infusionHours(doseMilligrams: dose)
      shortestInfusionHours = min(shortestInfusionHours, hours)
      fastestInfusionMilligramsPerMinute = max(
        fastestInfusionMilligramsPerMinute, dose / (hours * 60))
    }
  }

  /// Adds every patient of a cohort record, its requests and its ledger.
  mutating func add(_ record: CohortRecord, rules: DosingRules, limits: ActuatorLimits) {
    let totals = record.table[column: "totalDoseMilligrams"] ?? []
    for patient in 0..<record.patientCount {
      let patientDoses = record.deliveredDoses(patient: patient)
      add(
        doses: patientDoses, intervalHours: record.decisionIntervalHours, rules: rules,
        limits: limits, cohort: record.specification.name)
      let recorded = patient < totals.count ? totals[patient] : .nan
      let difference = abs(patientDoses.reduce(0, +) - recorded)
      largestAccountingDifferenceMilligrams = max(
        largestAccountingDifferenceMilligrams, difference.isNaN ? .infinity : difference)
    }
    for request in record.requestedMilligrams where !request.isNaN {
      largestRequestMilligrams = max(largestRequestMilligrams, request)
    }
  }
}

/// Builds the hard-limit results of the delivered doses of every cohort.
func hardLimitResults(
  records: [CohortRecord], rules: DosingRules, limits: ActuatorLimits
) -> [SafetyCheckResult] {
  var measurement = DeliveredDoseMeasurement()
  for record in records { measurement.add(record, rules: rules, limits: limits) }
  var interventions: [String: Double] = [:]
  for record in records {
    for name in record.table.columnNames where name.hasPrefix("interventions") {
      interventions[name, default: 0] += (record.table[column: name] ?? []).reduce(0, +)
    }
  }
  let scope =
    "\(measurement.doses) delivered doses in \(records.count) cohorts, extreme and "
    + "perturbed ones included"
  let requested = measurement.largestRequestMilligrams
  return [
    SafetyCheckResult(
      name: "hardLimits.deliverableDoses", category: .hardLimits,
      measured: Double(measurement.undeliverableDoses), limit: 0, unit: "doses",
      values: ["doses": Double(measurement.doses)],
      detail:
        "Delivered doses that are NaN, infinite, negative or not a multiple of "
        + "\(formatted(limits.doseIncrementMilligrams)) mg, out of \(scope)."),
    SafetyCheckResult(
      name: "hardLimits.singleDose", category: .hardLimits,
      measured: measurement.largestDoseMilligrams, limit: limits.maximumSingleDoseMilligrams,
      unit: "mg",
      values: interventions.merging(
        ["largestRequestMilligrams": requested], uniquingKeysWith: { $1 }),
      detail:
        "Largest delivered dose (\(measurement.largestDoseCohort)) over \(scope); the policy "
        + "requested up to \(compact(requested)) mg. Actuator interventions: "
        + interventionText(interventions) + "."),
    SafetyCheckResult(
      name: "hardLimits.dosePer24Hours", category: .hardLimits,
      measured: measurement.largest24HourTotalMilligrams,
      limit: limits.maximumDosePer24HoursMilligrams, unit: "mg",
      detail:
        "Largest total of doses started within any 24 h "
        + "(\(measurement.largest24HourTotalCohort)), recomputed from each patient's doses."),
    SafetyCheckResult(
      name: "hardLimits.infusionRate", category: .hardLimits,
      measured: measurement.fastestInfusionMilligramsPerMinute,
      limit: rules.maximumInfusionRateMilligramsPerMinute, unit: "mg/min",
      detail:
        "Fastest infusion of a delivered dose, with the infusion durations the environment "
        + "simulates (DosingRules.infusionSteps)."),
    SafetyCheckResult(
      name: "hardLimits.infusionDuration", category: .hardLimits,
      measured: measurement.shortestInfusionHours == .infinity
        ? rules.minimumInfusionHours : measurement.shortestInfusionHours,
      limit: rules.minimumInfusionHours, comparison: .atLeast, unit: "h",
      detail: "Shortest infusion of a non-zero delivered dose."),
    SafetyCheckResult(
      name: "hardLimits.doseAccounting", category: .hardLimits,
      measured: measurement.largestAccountingDifferenceMilligrams, limit: 0.001, unit: "mg",
      detail:
        "Largest difference between a patient's doses read from the observations and the "
        + "environment's totalDoseMilligrams; a difference means the doses above were misread."),
  ]
}

/// Formats intervention sums such as `interventionsRounded` as
/// `rounded 12, clampedToSingleMaximum 0`.
func interventionText(_ interventions: [String: Double]) -> String {
  interventions.keys.sorted().map { name in
    let kind = name.dropFirst("interventions".count)
    return "\(kind.prefix(1).lowercased() + kind.dropFirst()) \(Int(interventions[name]!))"
  }.joined(separator: ", ")
}

/// Formats a number as an integer below one million, else in `%.3g` form.
func compact(_ value: Double) -> String {
  abs(value) < 1e6 && value == value.rounded() ? formatted(value) : String(format: "%.3g", value)
}
