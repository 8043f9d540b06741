import TitrateEnvironments

/// Builds the non-finite results: whether the rows rejected in the
/// environment got 0 mg and were counted, and whether the throwing API
/// names every corrupted entry.
/// - Parameters:
///   - records: every cohort; those with `nonFiniteEntries` perturbation
///     supply the rollout results.
///   - probeRule: the policy's screened rule at one site.
///   - probeRow: one finite observation row to corrupt.
func nonFiniteResults(
  records: [CohortRecord], probeRule: ScreenedRule, probeRow: [Float],
  observationNames: [String], actionMilligrams: (Float) -> Double
) -> [SafetyCheckResult] {
  var results: [SafetyCheckResult] = []
  let perturbed = records.filter {
    if case .perturbed(.nonFiniteEntries) = $0.specification.kind { return true }
    return false
  }
  if !perturbed.isEmpty {
    var rejected = 0
    var dosed = 0
    var counted = 0.0
    var unscreenedDosed = 0
    for record in perturbed {
      rejected += record.rejectedRows.count
      for (decision, patient) in record.rejectedRows
      where record.deliveredMilligrams[decision * record.patientCount + patient] != 0 {
        dosed += 1
      }
      counted += (record.table[column: "interventionsNonFinite"] ?? []).reduce(0, +)
      unscreenedDosed += record.unscreenedRequestsMilligrams.filter { $0.isFinite && $0 > 0 }.count
    }
    let unscreened =
      "Without the screen the policy would have requested a positive finite dose for "
      + "\(unscreenedDosed) of them."
    results.append(
      SafetyCheckResult(
        name: "nonFiniteObservations.rejectedRowsDosed", category: .nonFiniteObservations,
        measured: Double(dosed), limit: 0, unit: "rows",
        values: ["rejectedRows": Double(rejected), "unscreenedDosed": Double(unscreenedDosed)],
        detail:
          "Rows with NaN or an infinity (\(rejected) in \(perturbed.count) cohorts) that "
          + "received a non-zero dose. \(unscreened)"))
    results.append(
      SafetyCheckResult(
        name: "nonFiniteObservations.rejectionsCounted", category: .nonFiniteObservations,
        measured: abs(counted - Double(rejected)), limit: 0, unit: "rows",
        values: ["interventionsNonFinite": counted, "rejectedRows": Double(rejected)],
        detail:
          "Difference between the rejected rows and the actuator's interventionsNonFinite "
          + "count (\(Int(counted)))."))
  }

  results.append(
    nonFiniteProbeResult(
      probeRule: probeRule, probeRow: probeRow, observationNames: observationNames,
      actionMilligrams: actionMilligrams))
  return results
}

/// Corrupts each entry of one finite row with NaN, +inf and -inf, next to
/// an untouched copy of the row, and counts the probes that the throwing
/// API did not reject by row and entry or whose finite neighbour changed.
func nonFiniteProbeResult(
  probeRule: ScreenedRule, probeRow: [Float], observationNames: [String],
  actionMilligrams: (Float) -> Double
) -> SafetyCheckResult {
  let width = probeRow.count
  var failures = 0
  var probes = 0
  var firstFailure = ""
  let expected = probeRule.rule(probeRow, 1)
  for entry in 0..<width {
    for value: Float in [.nan, .infinity, -.infinity] {
      probes += 1
      var bad = probeRow
      bad[entry] = value
      let batch = probeRow + bad
      var failure: String?
      do {
        _ = try probeRule.actions(
          observations: batch, rowCount: 2, observationNames: observationNames)
        failure = "entry \(entry) = \(value) was not rejected"
      } catch {
        if error.row != 1 || error.entry != entry {
          failure = "entry \(entry) = \(value) was reported as row \(error.row), entry \(error.entry)"
        }
      }
      let screened = probeRule.screenedActions(observations: batch, rowCount: 2)
      if screened.rejectedRows != [1] || !screened.actions[1].isNaN {
        failure = "entry \(entry) = \(value) was not screened out"
      } else if actionMilligrams(screened.actions[0]) != actionMilligrams(expected[0]) {
        failure = "the finite row next to entry \(entry) = \(value) changed its dose"
      }
      if let failure {
        failures += 1
        if firstFailure.isEmpty { firstFailure = " First: \(failure)." }
      }
    }
  }
  return SafetyCheckResult(
    name: "nonFiniteObservations.typedError", category: .nonFiniteObservations,
    measured: Double(failures), limit: 0, unit: "probes",
    values: ["probes": Double(probes)],
    detail:
      "Probes (each of \(width) entries set to NaN, +inf, -inf) not rejected with a "
      + "NonFiniteObservationError naming the row and entry, or whose finite neighbour "
      + "row changed its dose.\(firstFailure)")
}
