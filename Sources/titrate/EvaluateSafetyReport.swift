import Foundation
import TitrateEnvironments
import TitrateEvaluation

// The safety part of `titrate evaluate`: exposure-threshold rates against
// the definition's limits, actuator and shield interventions, the worst
// patients with their trajectories, and an SVG of those trajectories.
extension EvaluateCommand {
  /// One patient picked as a worst case, with what a clinician needs to
  /// look at: covariates, true PK parameters and the trajectory.
  struct WorstCase: Codable {
    var site: String
    var policy: String
    var ageYears: Double
    var weightKilograms: Double
    var female: Bool
    var serumCreatinineMilligramsPerDeciliter: Double
    var haemodialysis: Bool
    var clearanceLitersPerHour: Double
    var centralVolumeLiters: Double
    var dosesMilligrams: [Double]
    var troughsMilligramsPerLiter: [Double]
    var dailyAUCs: [Double]
  }

  /// Returns the `count` patients of a table with the highest maximum true
  /// trough (ties broken by the highest daily AUC24), worst first.
  static func worstCases(
    table: OutcomeTable, site: String, policy: String, count: Int, days: Int, decisions: Int
  ) -> [WorstCase] {
    guard count > 0, table.rowCount > 0 else { return [] }
    func column(_ name: String) -> [Double] { table[column: name] ?? [] }
    let maximumTrough = column("maximumTrueTroughMilligramsPerLiter")
    let dayAUCs = (1...days).map { column("day\($0)AUC") }
    let maximumAUC = (0..<table.rowCount).map { row in dayAUCs.map { $0[row] }.max() ?? 0 }
    let order = (0..<table.rowCount).sorted { first, second in
      if maximumTrough[first] != maximumTrough[second] {
        return maximumTrough[first] > maximumTrough[second]
      }
      return maximumAUC[first] > maximumAUC[second]
    }
    return order.prefix(count).map { row in
      WorstCase(
        site: site, policy: policy, ageYears: column("ageYears")[row],
        weightKilograms: column("weightKilograms")[row], female: column("female")[row] > 0.5,
        serumCreatinineMilligramsPerDeciliter: column("serumCreatinineMilligramsPerDeciliter")[row],
        haemodialysis: column("haemodialysis")[row] > 0.5,
        clearanceLitersPerHour: column("clearanceLitersPerHour")[row],
        centralVolumeLiters: column("centralVolumeLiters")[row],
        dosesMilligrams: (1...decisions).map { column("dose\($0)Milligrams")[row] },
        troughsMilligramsPerLiter: (1...decisions).map {
          column("trough\($0)MilligramsPerLiter")[row]
        },
        dailyAUCs: dayAUCs.map { $0[row] })
    }
  }

  /// Formats each threshold's rate with its 95% Wilson interval against
  /// the limit, and the interventions, for every policy of a cohort.
  static func formatSafety(
    summaries: [OutcomeSummary], tables: [OutcomeTable], thresholds: [ExposureThreshold]
  ) -> [String] {
    var lines: [String] = []
    for (summary, table) in zip(summaries, tables) {
      var parts: [String] = []
      for threshold in thresholds {
        let events = (table[column: threshold.outcome] ?? []).filter { $0 > 0.5 }.count
        let proportion = Proportion(events: events, total: table.rowCount)
        let bounds = proportion.wilsonInterval
        let verdict = proportion.fraction <= threshold.maximumRate ? "within" : "ABOVE"
        parts.append(
          String(
            format: "%@ %.1f%% [%.1f-%.1f] %@ limit %.1f%%", threshold.name,
            proportion.fraction * 100, bounds.lower * 100, bounds.upper * 100, verdict,
            threshold.maximumRate * 100))
      }
      let actuator = summary.interventions.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        .map { "\($0.key) \($0.value)" }
      parts.append(
        "actuator interventions: " + (actuator.isEmpty ? "none" : actuator.joined(separator: ", ")))
      parts.append(
        "shield: \(summary.shieldReductions) doses lowered in \(summary.patientsShielded) patients")
      lines.append("  \(summary.policy): " + parts.joined(separator: "; "))
    }
    return lines
  }

  /// Formats worst cases as indented lines.
  static func formatWorstCases(_ cases: [WorstCase]) -> [String] {
    cases.enumerated().map { index, patient in
      func list(_ values: [Double], _ format: String) -> String {
        values.map { String(format: format, $0) }.joined(separator: " ")
      }
      return String(
        format:
          "  %d. %@ %@, %.0f y, %.0f kg, %@, SCr %.2f mg/dL%@; true CL %.2f L/h, V1 %.0f L\n"
          + "     doses mg: %@\n     troughs mg/L: %@\n     daily AUC24: %@",
        index + 1, patient.site, patient.policy, patient.ageYears, patient.weightKilograms,
        patient.female ? "female" : "male", patient.serumCreatinineMilligramsPerDeciliter,
        patient.haemodialysis ? ", haemodialysis" : "", patient.clearanceLitersPerHour,
        patient.centralVolumeLiters, list(patient.dosesMilligrams, "%.0f"),
        list(patient.troughsMilligramsPerLiter, "%.1f"), list(patient.dailyAUCs, "%.0f"))
    }
  }

  /// Draws the worst cases' true concentrations at the end of each
  /// decision interval against time, with the trough limit.
  static func worstCasePlot(
    _ cases: [WorstCase], intervalHours: Double, troughLimit: Double
  ) -> String {
    let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    var plot = SVGLinePlot(
      title: "Worst patients: true concentration before each dose",
      xLabel: "time (h)", yLabel: "concentration (mg/L)")
    for (index, patient) in cases.enumerated() {
      let times = patient.troughsMilligramsPerLiter.indices.map {
        Double($0 + 1) * intervalHours
      }
      plot.series.append(
        SVGLinePlot.Series(
          label: String(
            format: "%@ %.0f y %.0f kg", patient.site, patient.ageYears, patient.weightKilograms),
          x: times, y: patient.troughsMilligramsPerLiter, color: colors[index % colors.count]))
    }
    plot.referenceLines.append(
      SVGLinePlot.ReferenceLine(
        label: String(format: "trough limit %.0f mg/L", troughLimit), y: troughLimit))
    return plot.render()
  }
}
