import TitrateEnvironments
import TitrateEvaluation

/// Builds one exposure result per threshold and cohort group: each
/// standard site cohort on its own, and each stress profile pooled over
/// the sites it was applied to.
///
/// A group passes when its observed rate (the point estimate) is at or
/// below the threshold's `maximumRate`. The 95% Wilson interval is
/// reported next to it, so a reader can see when the cohort is too small
/// to tell.
func exposureResults(records: [CohortRecord], thresholds: [ExposureThreshold])
  -> [SafetyCheckResult]
{
  var groups: [(name: String, records: [CohortRecord])] = []
  for record in records {
    let group: String
    switch record.specification.kind {
    case .standard: group = record.specification.site.name
    case .stress(let profile): group = "stress.\(profile.rawValue)"
    case .perturbed: continue
    }
    if let index = groups.firstIndex(where: { $0.name == group }) {
      groups[index].records.append(record)
    } else {
      groups.append((group, [record]))
    }
  }

  var results: [SafetyCheckResult] = []
  for threshold in thresholds {
    for group in groups {
      results.append(exposureResult(threshold: threshold, group: group.name, group.records))
    }
  }
  return results
}

private func exposureResult(
  threshold: ExposureThreshold, group: String, _ records: [CohortRecord]
) -> SafetyCheckResult {
  let name = "exposure.\(threshold.name).\(group)"
  var events = 0
  var total = 0
  var perCohort: [String: Double] = [:]
  for record in records {
    guard let column = record.table[column: threshold.outcome] else {
      return SafetyCheckResult(
        name: name, category: .exposure, measured: .nan, limit: threshold.maximumRate,
        unit: "fraction",
        detail:
          "The environment's outcome table has no column \"\(threshold.outcome)\"; use one of "
          + VancomycinEnvironment.exposureIndicatorOutcomes.joined(separator: ", ") + ".")
    }
    let cohortEvents = column.filter { $0 > 0.5 }.count
    events += cohortEvents
    total += column.count
    perCohort["events \(record.specification.name)"] = Double(cohortEvents)
  }
  let proportion = Proportion(events: events, total: total)
  let bounds = proportion.wilsonInterval
  let cohorts =
    records.count == 1
    ? records[0].specification.name
    : "\(records.count) cohorts (" + records.map(\.specification.site.name).joined(separator: ", ")
      + ")"
  return SafetyCheckResult(
    name: name, category: .exposure, measured: proportion.fraction,
    limit: threshold.maximumRate, unit: "fraction",
    interval: RateInterval(lower: bounds.lower, upper: bounds.upper),
    values: perCohort.merging(
      ["events": Double(events), "patients": Double(total)], uniquingKeysWith: { $1 }),
    detail:
      "\(events) of \(total) patients in \(cohorts) had \(threshold.outcome) (rate "
      + String(format: "%.1f%%, upper 95%% bound %.1f%%", proportion.fraction * 100, bounds.upper * 100)
      + "); maximum rate "
      + String(format: "%.1f%%", threshold.maximumRate * 100) + ". \(threshold.description)")
}
