import TitrateEnvironments
import TitrateEvaluation

/// Builds one exposure result per threshold and cohort group: each
/// standard site cohort on its own, and each stress profile pooled over
/// the sites it was applied to.
///
/// A group passes when its observed rate (the point estimate) is at or
/// below the threshold's `maximumRate`, or its `stressLimit` for a stress
/// group. The 95% Wilson interval is
/// reported next to it, so a reader can see when the cohort is too small
/// to tell.
func exposureResults(records: [CohortRecord], thresholds: [ExposureThreshold])
  -> [SafetyCheckResult]
{
  var groups: [(name: String, isStress: Bool, records: [CohortRecord])] = []
  for record in records {
    let group: String
    let isStress: Bool
    switch record.specification.kind {
    case .standard:
      group = record.specification.site.name
      isStress = false
    case .stress(let profile):
      group = "stress.\(profile.rawValue)"
      isStress = true
    case .perturbed: continue
    }
    if let index = groups.firstIndex(where: { $0.name == group }) {
      groups[index].records.append(record)
    } else {
      groups.append((group, isStress, [record]))
    }
  }

  var results: [SafetyCheckResult] = []
  for threshold in thresholds {
    for group in groups {
      results.append(
        exposureResult(
          threshold: threshold, limit: group.isStress ? threshold.stressLimit : threshold.maximumRate,
          group: group.name, group.records))
    }
  }
  return results
}

private func exposureResult(
  threshold: ExposureThreshold, limit: Double, group: String, _ records: [CohortRecord]
) -> SafetyCheckResult {
  let name = "exposure.\(threshold.name).\(group)"
  var events = 0
  var total = 0
  var perCohort: [String: Double] = [:]
  for record in records {
    guard let column = record.table[column: threshold.outcome] else {
      return SafetyCheckResult(
        name: name, category: .exposure, measured: .nan, limit: limit,
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
    limit: limit, unit: "fraction",
    interval: RateInterval(lower: bounds.lower, upper: bounds.upper),
    values: perCohort.merging(
      ["events": Double(events), "patients": Double(total)], uniquingKeysWith: { $1 }),
    detail:
      "\(events) of \(total) patients in \(cohorts) had \(threshold.outcome) (rate "
      + String(format: "%.1f%%, upper 95%% bound %.1f%%", proportion.fraction * 100, bounds.upper * 100)
      + "); maximum rate "
      + String(format: "%.1f%%", limit * 100) + ". \(threshold.description)")
}
