import Foundation
import TitrateEnvironments
import TitrateEvaluation
import TitrateFederation
import TitrateRandom

/// Runs the safety checks on a policy for a warfarin, propofol or glucose
/// environment, with the report types of `SafetyVerifier`.
///
/// Cohorts run one episode per patient. Each site's population is one
/// cohort. Each stress profile of the kind runs on the first site: CYP2C9
/// *3/*3 with VKORC1 AA and 95-year-old 45-kg patients for warfarin,
/// 85-year-old 45-kg patients for propofol, the children for glucose. Each
/// observation perturbation of the configuration runs on every site.
///
/// Checks: every delivered dose or rate within the actuator's bounds and
/// increment; rows with NaN or infinities rejected, given no dose and
/// counted; each exposure threshold's rate of exposed patients on site and
/// stress cohorts, passing on the point estimate with its 95% Wilson
/// interval reported; the kind's clinical sanity property on sampled rows.
/// The verifier does not print, and a seeded run is reproducible.
public struct PKPDSafetyVerifier {
  public let environment: PKPDSafetyEnvironment
  public let sites: [VerifiedSite]
  public let exposureThresholds: [PKPDExposureThreshold]
  public let configuration: SafetyVerificationConfiguration
  let adapter: PKPDSafetyAdapter

  /// Creates a verifier.
  /// - Parameters:
  ///   - sites: sites to build cohorts for; nil uses every population.
  ///   - exposureThresholds: nil uses the definition's safety section.
  /// - Throws: `SafetyVerificationError` for missing thresholds, unknown
  ///   outcomes or populations, no sites, invalid settings or a shield
  ///   (these environments have none).
  public init(
    environment: PKPDSafetyEnvironment, sites: [VerifiedSite]? = nil,
    exposureThresholds: [PKPDExposureThreshold]? = nil,
    configuration: SafetyVerificationConfiguration = SafetyVerificationConfiguration()
  ) throws(SafetyVerificationError) {
    var problems = configuration.problems()
    if configuration.shield != nil {
      problems.append("shield is set, but only vancomycin environments have a shield; unset it")
    }
    guard problems.isEmpty else { throw .invalidConfiguration(problems: problems) }
    guard let thresholds = exposureThresholds ?? environment.safety?.exposureThresholds else {
      throw .missingExposureThresholds(environment: environment.name)
    }
    let known = environment.outcomeColumnNames
    for threshold in thresholds where !known.contains(threshold.outcome) {
      throw .unknownOutcome(threshold: threshold.name, outcome: threshold.outcome, known: known)
    }
    let sites = sites ?? environment.populationNames.map { VerifiedSite(name: $0, population: $0) }
    guard !sites.isEmpty else { throw .noSites }
    for site in sites where !environment.populationNames.contains(site.population) {
      throw .unknownPopulation(
        site: site.name, population: site.population, known: environment.populationNames)
    }
    self.environment = environment
    self.sites = sites
    self.exposureThresholds = thresholds
    self.configuration = configuration
    adapter = environment.adapter
  }

  /// Creates a verifier for a checkpoint of these kinds: its stored
  /// definition and its training sites. `checkpointDirectory`, the folder
  /// of the checkpoint file, is where a linear definition's cohort file is
  /// looked for when the stored absolute path is gone.
  /// - Throws: `SafetyVerificationError.invalidStoredDefinition` when the
  ///   stored definition is not a warfarin, propofol, glucose or linear
  ///   one, or its cohort file is missing or changed.
  public init(
    checkpoint: TrainedPolicy, exposureThresholds: [PKPDExposureThreshold]? = nil,
    configuration: SafetyVerificationConfiguration = SafetyVerificationConfiguration(),
    checkpointDirectory: URL? = nil
  ) throws(SafetyVerificationError) {
    let decoded: PKPDSafetyEnvironment?
    do {
      decoded = try PKPDSafetyEnvironment.decode(
        definitionJSON: checkpoint.environment.definitionJSON,
        trainedCohort: checkpoint.environment.cohort, checkpointDirectory: checkpointDirectory)
    } catch {
      throw .invalidStoredDefinition(reason: "\(error)")
    }
    guard let decoded else {
      throw .invalidStoredDefinition(
        reason: "it is not a warfarin, propofol or glucose definition; use SafetyVerifier")
    }
    try self.init(
      environment: decoded,
      sites: checkpoint.configuration.sites.map {
        VerifiedSite(name: $0.name, population: $0.population)
      }, exposureThresholds: exposureThresholds, configuration: configuration)
  }

  /// Runs every cohort under `policy` and returns the report.
  /// - Throws: errors from building an environment or the policy's rule.
  public func verify(_ policy: PolicyUnderTest) throws -> SafetyReport {
    try verify(name: policy.name, policy: policy, baseline: nil)
  }

  /// Runs the site and stress cohorts under one of the environment's
  /// baselines. Baselines read the environment's state, not the
  /// observation rows, so the perturbed cohorts, the non-finite checks and
  /// the sanity property do not apply to them.
  public func verifyBaseline(named name: String) throws -> SafetyReport {
    try verify(name: name, policy: nil, baseline: name)
  }

  private func verify(name: String, policy: PolicyUnderTest?, baseline: String?) throws
    -> SafetyReport
  {
    var records: [PKPDCohortRecord] = []
    for (index, cohort) in cohorts(includePerturbed: policy != nil).enumerated() {
      records.append(
        try run(
          cohort, policy: policy, baseline: baseline, seed: configuration.seed &+ UInt64(index),
          streamIdentifier: SafetyVerifier.streamOffset + UInt64(index)))
    }
    var checks = pkpdHardLimitResults(records: records, limits: adapter.hardLimits)
    var notes = adapter.notes + [
      "exposure thresholds: "
        + exposureThresholds.map {
          "\($0.name) (\(adapter.exposureCondition($0)), "
            + "maximum rate \(formatted($0.maximumRate * 100))%)"
        }.joined(separator: ", ")
    ]
    if let policy {
      let standard = records.filter { $0.kind == .standard }
      let probeRow = standard[0].sampledRows.first ?? []
      checks += pkpdNonFiniteResults(
        records: records, interventionColumn: adapter.nonFiniteInterventionColumn)
      if !probeRow.isEmpty {
        checks.append(
          nonFiniteProbeResult(
            probeRule: try policy.screenedRule(at: sites[0]), probeRow: probeRow,
            observationNames: adapter.observationNames, actionMilligrams: { Double($0) }))
      }
      checks += exposure(records)
      checks.append(
        try sanityResult(policy: policy, records: standard))
    } else {
      checks += exposure(records)
      notes.append(
        "baseline \(name) reads the environment's state, so perturbed cohorts, non-finite "
          + "observation checks and the clinical sanity property were not run")
    }
    return SafetyReport(
      policy: name, environment: environment.name,
      patientsPerCohort: configuration.patientsPerCohort, seed: configuration.seed,
      checks: checks, cohorts: records.map(\.summary),
      interventionKinds: SafetyReport.interventionKinds(
        columnNames: records.first?.table.columnNames ?? []),
      notes: notes)
  }

  /// Lists the cohorts of a run in report order.
  func cohorts(includePerturbed: Bool) -> [PKPDCohort] {
    var result = sites.map { PKPDCohort(kind: .standard, site: $0) }
    for profile in adapter.stressProfiles.indices {
      result.append(PKPDCohort(kind: .stress(profile), site: sites[0]))
    }
    if includePerturbed {
      for perturbation in configuration.perturbations {
        for site in sites { result.append(PKPDCohort(kind: .perturbed(perturbation), site: site)) }
      }
    }
    return result
  }

  private func exposure(_ records: [PKPDCohortRecord]) -> [SafetyCheckResult] {
    var results: [SafetyCheckResult] = []
    for threshold in exposureThresholds {
      for record in records {
        let isStress: Bool
        switch record.kind {
        case .standard: isStress = false
        case .stress: isStress = true
        case .perturbed: continue
        }
        let values = record.table[column: threshold.outcome] ?? []
        let events = values.filter(threshold.isExposed).count
        let proportion = Proportion(events: events, total: values.count)
        let bounds = proportion.wilsonInterval
        let limit = isStress ? threshold.stressLimit : threshold.maximumRate
        let group = isStress ? "stress.\(record.groupName)" : record.site.name
        results.append(
          SafetyCheckResult(
            name: "exposure.\(threshold.name).\(group)", category: .exposure,
            measured: proportion.fraction, limit: limit, unit: "fraction",
            interval: RateInterval(lower: bounds.lower, upper: bounds.upper),
            values: ["events": Double(events), "patients": Double(values.count)],
            detail:
              "\(events) of \(values.count) patients in \(record.name) had "
              + "\(adapter.exposureCondition(threshold)). \(threshold.description)"))
      }
    }
    return results
  }
}
