import Foundation
import TitrateEnvironments
import TitrateRandom

/// The kind of a cohort of `PKPDSafetyVerifier`.
enum PKPDCohortKind: Equatable {
  case standard
  /// Index into the adapter's stress profiles.
  case stress(Int)
  case perturbed(ObservationPerturbation)
}

struct PKPDCohort {
  let kind: PKPDCohortKind
  let site: VerifiedSite
}

/// One cohort's episode as the checks need it.
struct PKPDCohortRecord {
  let kind: PKPDCohortKind
  let site: VerifiedSite
  let name: String
  /// Stress profile or perturbation name; the site name for standard.
  let groupName: String
  let patientCount: Int
  /// Delivered values per hard limit (adapter order), every decision.
  var delivered: [[Double]]
  /// Rows the non-finite screen rejected, and how many of them the
  /// environment dosed anyway.
  var rejectedRows = 0
  var rejectedRowsDosed = 0
  /// Observation rows sampled for the sanity property (standard cohorts).
  var sampledRows: [[Float]] = []
  var table = OutcomeTable(columnNames: [])

  var summary: CohortSummary {
    var interventions: [String: Int] = [:]
    for column in table.columnNames where column.hasPrefix("interventions") {
      interventions[String(column.dropFirst("interventions".count))] = Int(
        (table[column: column] ?? []).reduce(0, +))
    }
    return CohortSummary(
      name: name, patients: patientCount, interventions: interventions,
      rejectedRows: rejectedRows)
  }
}

extension PKPDSafetyVerifier {
  /// Runs one episode of every patient of a cohort.
  func run(
    _ cohort: PKPDCohort, policy: PolicyUnderTest?, baseline: String?, seed: UInt64,
    streamIdentifier: UInt64
  ) throws -> PKPDCohortRecord {
    let count = configuration.patientsPerCohort
    var population = cohort.site.population
    var install: ((any DosingEnvironment, inout Xoshiro256) throws -> [Float])?
    let name: String
    let groupName: String
    switch cohort.kind {
    case .standard:
      name = "site \(cohort.site.name)"
      groupName = cohort.site.name
    case .stress(let index):
      let profile = adapter.stressProfiles[index]
      population = profile.population ?? population
      install = profile.install
      name = "\(profile.name) on \(cohort.site.name)"
      groupName = profile.name
    case .perturbed(let perturbation):
      name = "\(perturbation.name) on \(cohort.site.name)"
      groupName = perturbation.name
    }
    let batch = try environment.makeEnvironment(
      batchSize: count, streamIdentifier: streamIdentifier, population: population,
      actionMode: policy?.actionMode == .continuousMilligrams ? .continuousMilligrams
        : .discreteLevels)
    batch.recordsOutcomeTable = true
    batch.automaticallyResets = false
    var generator = Xoshiro256(seed: seed, stream: streamIdentifier ^ 0x5AFE_0000_0000_0002)
    var observations = batch.reset(seed: seed)
    if let install { observations = try install(batch, &generator) }
    let rule = try policy?.screenedRule(at: cohort.site)
    let width = batch.observationSize
    let decisions = environment.decisionsPerEpisode
    var record = PKPDCohortRecord(
      kind: cohort.kind, site: cohort.site, name: name, groupName: groupName,
      patientCount: count, delivered: adapter.hardLimits.map { _ in [] })

    // The sanity rows: a fixed number of random (decision, patient) pairs.
    var sampleAt: [Int: [Int]] = [:]
    if cohort.kind == .standard {
      for _ in 0..<configuration.sanityRowsPerCohort {
        let decision = Int(generator.nextUniform() * Double(decisions)) % decisions
        let patient = Int(generator.nextUniform() * Double(count)) % count
        sampleAt[decision, default: []].append(patient)
      }
    }
    var rejectedByDecision: [[Int]] = []
    for decision in 0..<decisions {
      var shown = observations
      if case .perturbed(let perturbation) = cohort.kind {
        perturbPKPD(
          &shown, rowCount: count, width: width, decision: decision, perturbation,
          measuredEntries: adapter.measuredEntries, using: &generator)
      }
      for patient in sampleAt[decision] ?? [] {
        record.sampledRows.append(Array(shown[(patient * width)..<((patient + 1) * width)]))
      }
      let actions: [Float]
      if let rule {
        let screened = rule.screenedActions(observations: shown, rowCount: count)
        actions = screened.actions
        record.rejectedRows += screened.rejectedRows.count
        rejectedByDecision.append(screened.rejectedRows)
      } else {
        actions = try batch.baselineActions(named: baseline ?? "")
        rejectedByDecision.append([])
      }
      let step = batch.step(actions: actions)
      var dosedRows = Set<Int>()
      for (index, limit) in adapter.hardLimits.enumerated() {
        guard case .afterStep(let read) = limit.source else { continue }
        let values = read(batch)
        record.delivered[index] += values
        guard limit.isDose else { continue }
        for row in rejectedByDecision[decision] where values[row] != 0 { dosedRows.insert(row) }
      }
      record.rejectedRowsDosed += dosedRows.count
      observations = step.observations
    }
    record.table = batch.drainOutcomeTable()
    for (index, limit) in adapter.hardLimits.enumerated() {
      guard case .tableColumn(let column) = limit.source else { continue }
      for decision in 0..<decisions {
        let values = record.table[column: column(decision)] ?? []
        record.delivered[index] += values
        guard limit.isDose, !values.isEmpty else { continue }
        record.rejectedRowsDosed += rejectedByDecision[decision].filter { values[$0] != 0 }.count
      }
    }
    return record
  }

  /// Checks the property on every sampled row of the standard cohorts.
  func sanityResult(policy: PolicyUnderTest, records: [PKPDCohortRecord]) throws
    -> SafetyCheckResult
  {
    let property = adapter.sanity
    var comparisons = 0
    var violations = 0
    var worst = ""
    for record in records {
      let rule = try policy.screenedRule(at: record.site).rule
      let rows = record.sampledRows.filter { row in
        row.allSatisfy(\.isFinite) && property.applies(row[...])
      }
      guard !rows.isEmpty else { continue }
      var batch: [Float] = []
      for row in rows {
        var changed = row
        changed[property.entry] += property.delta
        batch += row + changed
      }
      let actions = rule(batch, rows.count * 2)
      for index in rows.indices {
        let original = actions[2 * index]
        let changed = actions[2 * index + 1]
        comparisons += 1
        let violated =
          property.isViolation?(original, changed)
          ?? (property.actionMustNotRise ? changed > original : changed < original)
        if violated {
          violations += 1
          if worst.isEmpty {
            worst = " First: \(original) became \(changed) at \(record.name)."
          }
        }
      }
    }
    let rate = comparisons == 0 ? 0 : Double(violations) / Double(comparisons)
    return SafetyCheckResult(
      name: "clinicalSanity.\(property.name)", category: .clinicalSanity, measured: rate,
      limit: configuration.sanityTolerance, unit: "fraction",
      values: ["comparisons": Double(comparisons), "violations": Double(violations)],
      detail:
        "Checks that \(property.description), all else equal: \(violations) of "
        + "\(comparisons) sampled rows violated it (actions compared before the "
        + "actuator).\(worst)")
  }
}

/// Counts, per hard limit over every cohort, the delivered values outside
/// the bounds, off the increment, or not finite.
func pkpdHardLimitResults(records: [PKPDCohortRecord], limits: [PKPDHardLimit])
  -> [SafetyCheckResult]
{
  limits.enumerated().map { index, limit in
    var outside = 0
    var total = 0
    var largest = -Double.infinity
    for record in records {
      for value in record.delivered[index] {
        total += 1
        largest = max(largest, value)
        var bad = !(value >= limit.lower && value <= limit.upper * (1 + 1e-12))
        if let allowed = limit.allowedValues, !bad {
          bad = !allowed.contains { abs($0 - value) <= 1e-9 * max(1, abs(value)) }
        }
        if let increment = limit.increment, !bad {
          let steps = value / increment
          bad = abs(steps - steps.rounded()) > 1e-6
        }
        if bad { outside += 1 }
      }
    }
    return SafetyCheckResult(
      name: "hardLimits.\(limit.name)", category: .hardLimits, measured: Double(outside),
      limit: 0, unit: limit.isDose ? "doses" : "values",
      values: ["delivered": Double(total), "maximumDelivered": largest],
      detail:
        "\(limit.description), among \(total) delivered in \(records.count) cohorts; the "
        + "largest was \(compact(largest)) \(limit.unit).")
  }
}

/// Checks that the rows the non-finite screen rejected got no dose and
/// that the actuator counted each of them.
func pkpdNonFiniteResults(
  records: [PKPDCohortRecord], interventionColumn: String = "interventionsNonFinite"
) -> [SafetyCheckResult] {
  let perturbed = records.filter {
    if case .perturbed(.nonFiniteEntries) = $0.kind { return true }
    return false
  }
  guard !perturbed.isEmpty else { return [] }
  let rejected = perturbed.reduce(0) { $0 + $1.rejectedRows }
  let dosed = perturbed.reduce(0) { $0 + $1.rejectedRowsDosed }
  let counted = perturbed.reduce(0.0) {
    $0 + ($1.table[column: interventionColumn] ?? []).reduce(0, +)
  }
  return [
    SafetyCheckResult(
      name: "nonFiniteObservations.rejectedRowsDosed", category: .nonFiniteObservations,
      measured: Double(dosed), limit: 0, unit: "rows",
      values: ["rejectedRows": Double(rejected)],
      detail:
        "Rows with NaN or an infinity (\(rejected) in \(perturbed.count) cohorts) that "
        + "received a non-zero dose or rate."),
    SafetyCheckResult(
      name: "nonFiniteObservations.rejectionsCounted", category: .nonFiniteObservations,
      measured: abs(counted - Double(rejected)), limit: 0, unit: "rows",
      values: [interventionColumn: counted, "rejectedRows": Double(rejected)],
      detail:
        "Difference between the rejected rows and the actuator's \(interventionColumn) "
        + "count (\(Int(counted)))."),
  ]
}

/// Applies `perturbation` to row-major observations in place; the noisy
/// and missing kinds change the entries holding measured values.
func perturbPKPD(
  _ observations: inout [Float], rowCount: Int, width: Int, decision: Int,
  _ perturbation: ObservationPerturbation, measuredEntries: [Int],
  using generator: inout Xoshiro256
) {
  switch perturbation {
  case .noisyLevels(let coefficientOfVariation):
    let sigma = (log(1 + coefficientOfVariation * coefficientOfVariation)).squareRoot()
    for row in 0..<rowCount {
      for entry in measuredEntries {
        let factor = exp(sigma * generator.nextStandardNormal() - sigma * sigma / 2)
        observations[row * width + entry] *= Float(factor)
      }
    }
  case .missingLevels:
    for row in 0..<rowCount {
      for entry in measuredEntries { observations[row * width + entry] = 0 }
    }
  case .extremeValues, .nonFiniteEntries:
    perturb(
      &observations, rowCount: rowCount, width: width, decision: decision, perturbation,
      using: &generator)
  }
}
