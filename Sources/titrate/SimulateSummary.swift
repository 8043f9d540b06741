import Foundation
import TitrateEnvironments

/// The summary `titrate simulate` prints for the vancomycin kind.
extension SimulateCommand {
  static func printSummary(
    patient: VirtualPatient, population: String, doses: [ScheduledDose], course: Course,
    definition: EnvironmentDefinition
  ) {
    let parameters = patient.parameters
    let rule = definition.populations[population].flatMap { definition.models[$0.model] }?
      .creatinineClearance
    print(
      String(
        format: "patient: %.0f y, %.0f kg, %@, SCr %.2f mg/dL, %@%@",
        patient.ageYears, patient.weightKilograms, patient.isFemale ? "female" : "male",
        patient.serumCreatinineMilligramsPerDeciliter,
        creatinineClearanceText(patient, rule: rule),
        (patient.onHaemodialysis ? ", haemodialysis" : "")
          + (patient.inIntensiveCare ? ", intensive care" : "")))
    var model = String(
      format: "typical PK: CL %.2f L/h, V1 %.1f L", parameters.clearanceLitersPerHour,
      parameters.centralVolumeLiters)
    for (q, v) in zip(
      parameters.intercompartmentalClearancesLitersPerHour, parameters.peripheralVolumesLiters)
    {
      model += String(format: ", Q %.2f L/h, V2 %.1f L", q, v)
    }
    print(model)

    print("doses:")
    for dose in doses {
      print(
        String(
          format: "  %6.2f h  %6.0f mg over %.2f h", dose.startHours, dose.milligrams,
          dose.infusionHours))
    }

    let reward = definition.reward
    let stepsPerDay = Int((24 / (course.timesHours[1] - course.timesHours[0])).rounded())
    // Cmax and Cmin are over the grid points of each day including its
    // start, so day 1's Cmin is the 0 mg/L before the first dose.
    print("day   AUC24 (mg*h/L)   Cmax (mg/L)   Cmin (mg/L)   in 400-600")
    var day = 0
    while (day + 1) * stepsPerDay < course.timesHours.count {
      let range = (day * stepsPerDay)...((day + 1) * stepsPerDay)
      let auc = course.cumulativeAUC[range.upperBound] - course.cumulativeAUC[range.lowerBound]
      let window = course.concentrations[range]
      let inTarget =
        auc >= reward.dailyAUCLowerMilligramHoursPerLiter
        && auc <= reward.dailyAUCUpperMilligramHoursPerLiter
      print(
        String(
          format: "%3d   %14.1f   %11.2f   %11.2f   %@", day + 1, auc, window.max()!, window.min()!,
          inTarget ? "yes" : "no"))
      day += 1
    }

    var troughs: [String] = []
    for dose in doses.dropFirst() {
      let index = Int((dose.startHours / (course.timesHours[1])).rounded())
      if index < course.concentrations.count {
        troughs.append(String(format: "%.1f", course.concentrations[index]))
      }
    }
    if !troughs.isEmpty {
      print(
        "troughs before doses 2...: \(troughs.joined(separator: ", ")) mg/L (limit \(reward.troughLimitMilligramsPerLiter))"
      )
    }
  }

  /// Describes the creatinine clearance the patient's model uses and,
  /// when the model's rule changed it, how and from which Cockcroft-Gault
  /// value.
  static func creatinineClearanceText(_ patient: VirtualPatient, rule: CreatinineClearanceRule?)
    -> String
  {
    let equation = patient.creatinineClearanceMillilitersPerMinute
    guard let rule else { return String(format: "CrCl %.0f mL/min", equation) }
    let adjusted = rule.adjustedClearance(
      ageYears: patient.ageYears, weightKilograms: patient.weightKilograms,
      isFemale: patient.isFemale,
      serumCreatinineMilligramsPerDeciliter: patient.serumCreatinineMilligramsPerDeciliter)
    var changes: [String] = []
    if adjusted.creatinineFloorApplied {
      let age = rule.serumCreatinineFloorAboveAgeYears.map { " above age \(formatNumber($0))" }
      // Swift's shortest form keeps one decimal of a whole floor (1.0).
      changes.append(
        "creatinine floored at \(adjusted.serumCreatinineMilligramsPerDeciliter) mg/dL\(age ?? "")")
    }
    if adjusted.capApplied, let cap = rule.maximumMillilitersPerMinute {
      changes.append("capped at \(formatNumber(cap)) mL/min")
    }
    if adjusted.minimumApplied, let minimum = rule.minimumMillilitersPerMinute {
      changes.append("raised to the \(formatNumber(minimum)) mL/min minimum")
    }
    guard !changes.isEmpty else { return String(format: "CrCl %.0f mL/min", equation) }
    return String(
      format: "CrCl %.0f mL/min as the model uses it (%@; Cockcroft-Gault %.0f)",
      adjusted.millilitersPerMinute, changes.joined(separator: ", then "), equation)
  }
}
