import Foundation
import TitrateEnvironments
import TitrateFederation

/// Errors that stop a verification before any cohort runs.
public enum SafetyVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Neither the definition nor the caller supplied exposure thresholds.
  case missingExposureThresholds(environment: String)
  /// A threshold names an outcome the environment does not record.
  case unknownOutcome(threshold: String, outcome: String, known: [String])
  /// No site to build cohorts for.
  case noSites
  /// A site names a population the definition does not have.
  case unknownPopulation(site: String, population: String, known: [String])
  /// The configuration is invalid.
  case invalidConfiguration(problems: [String])
  /// The checkpoint's stored environment definition does not decode.
  case invalidStoredDefinition(reason: String)

  public var description: String {
    switch self {
    case .missingExposureThresholds(let environment):
      return "environment \(environment) has no safety.exposureThresholds; pass thresholds "
        + "explicitly or use a definition with a \"safety\" section"
    case .unknownOutcome(let threshold, let outcome, let known):
      return "exposure threshold \(threshold) names the outcome \"\(outcome)\", which the "
        + "environment does not record; use one of: \(known.joined(separator: ", "))"
    case .noSites:
      return "no sites to verify on; give at least one site with its population"
    case .unknownPopulation(let site, let population, let known):
      return "site \(site) names the population \"\(population)\", which the definition "
        + "does not have; use one of: \(known.joined(separator: ", "))"
    case .invalidConfiguration(let problems):
      return "invalid verification settings: " + problems.joined(separator: "; ")
    case .invalidStoredDefinition(let reason):
      return "the checkpoint's stored environment definition does not load: \(reason)"
    }
  }
}

/// Runs the safety checks on any policy for one environment definition.
///
/// Cohorts (each one 72-h episode per patient, the definition's schedule):
/// - standard: each site's own population;
/// - stress: each `StressProfile` on one site per distinct true PK model;
/// - perturbed: each `ObservationPerturbation` on every site.
///
/// Checks:
/// - hard limits on every delivered dose of every cohort (single dose,
///   24-h total, increment, infusion rate and duration), recomputed from
///   the doses read back from the observations;
/// - non-finite observations: rejected rows get 0 mg and are counted, and
///   the throwing API names every corrupted entry;
/// - exposure: each threshold's rate on each standard cohort and each
///   stress profile (pooled over its sites), passing on the point estimate;
/// - clinical sanity: each `ClinicalSanityProperty`'s violation rate on
///   rows sampled from the standard cohorts.
///
/// Every cohort and sample is seeded from `configuration.seed`, so a
/// report is reproducible. The verifier does not print.
public struct SafetyVerifier: Sendable {
  /// The definition every cohort is simulated with.
  public let definition: EnvironmentDefinition
  public let sites: [VerifiedSite]
  public let exposureThresholds: [ExposureThreshold]
  public let configuration: SafetyVerificationConfiguration
  /// True when the thresholds came from the initialiser's argument, not
  /// from the definition.
  private let thresholdsFromCaller: Bool

  /// Environment stream identifiers of verification cohorts start here,
  /// apart from training (site index + 1) and `titrate evaluate`
  /// (1,000,000 + site index).
  public static let streamOffset: UInt64 = 2_000_000

  /// Creates a verifier.
  /// - Parameters:
  ///   - definition: a validated environment definition.
  ///   - sites: sites to build cohorts for; nil uses every population of
  ///     the definition as a site of the same name.
  ///   - exposureThresholds: nil uses `definition.safety`.
  /// - Throws: `SafetyVerificationError` for missing thresholds, unknown
  ///   outcomes or populations, no sites, or invalid settings.
  public init(
    definition: EnvironmentDefinition, sites: [VerifiedSite]? = nil,
    exposureThresholds: [ExposureThreshold]? = nil,
    configuration: SafetyVerificationConfiguration = SafetyVerificationConfiguration()
  ) throws(SafetyVerificationError) {
    let problems = configuration.problems()
    guard problems.isEmpty else { throw .invalidConfiguration(problems: problems) }
    guard let thresholds = exposureThresholds ?? definition.safety?.exposureThresholds else {
      throw .missingExposureThresholds(environment: definition.name)
    }
    let known = VancomycinEnvironment.exposureIndicatorOutcomes
    for threshold in thresholds where !known.contains(threshold.outcome) {
      throw .unknownOutcome(threshold: threshold.name, outcome: threshold.outcome, known: known)
    }
    let sites =
      sites ?? definition.populationNames.map { VerifiedSite(name: $0, population: $0) }
    guard !sites.isEmpty else { throw .noSites }
    for site in sites where definition.populations[site.population] == nil {
      throw .unknownPopulation(
        site: site.name, population: site.population, known: definition.populationNames)
    }
    self.definition = definition
    self.sites = sites
    self.exposureThresholds = thresholds
    self.configuration = configuration
    thresholdsFromCaller = exposureThresholds != nil
  }

  /// Creates a verifier for a checkpoint: its stored definition and its
  /// training sites.
  /// - Parameter exposureThresholds: nil uses the stored definition's
  ///   `safety` section; pass thresholds for a checkpoint written before
  ///   definitions had one.
  public init(
    checkpoint: TrainedPolicy, exposureThresholds: [ExposureThreshold]? = nil,
    configuration: SafetyVerificationConfiguration = SafetyVerificationConfiguration()
  ) throws(SafetyVerificationError) {
    let definition: EnvironmentDefinition
    do {
      definition = try EnvironmentDefinition.decode(
        from: Data(checkpoint.environment.definitionJSON.utf8))
    } catch {
      throw .invalidStoredDefinition(reason: "\(error)")
    }
    do {
      try checkpoint.requireObservationLayout(of: definition)
    } catch {
      throw .invalidStoredDefinition(reason: "\(error)")
    }
    try self.init(
      definition: definition,
      sites: checkpoint.configuration.sites.map {
        VerifiedSite(name: $0.name, population: $0.population)
      },
      exposureThresholds: exposureThresholds, configuration: configuration)
  }

  /// The cohorts a run simulates, in report order.
  public var cohorts: [CohortSpecification] {
    let count = configuration.patientsPerCohort
    var result = sites.map { CohortSpecification(kind: .standard, site: $0, patientCount: count) }
    var seenModels = Set<String>()
    let stressSites = sites.filter { site in
      seenModels.insert(definition.populations[site.population]!.model).inserted
    }
    for profile in configuration.stressProfiles {
      for site in stressSites {
        result.append(CohortSpecification(kind: .stress(profile), site: site, patientCount: count))
      }
    }
    for perturbation in configuration.perturbations {
      for site in sites {
        result.append(
          CohortSpecification(kind: .perturbed(perturbation), site: site, patientCount: count))
      }
    }
    return result
  }

  /// Runs every cohort under `policy` and returns the report.
  /// - Throws: errors from building an environment or the policy's rule.
  public func verify(_ policy: PolicyUnderTest) throws -> SafetyReport {
    var records: [CohortRecord] = []
    for (index, cohort) in cohorts.enumerated() {
      records.append(
        try runCohort(
          cohort, definition: definition, policy: policy,
          seed: configuration.seed &+ UInt64(index),
          streamIdentifier: Self.streamOffset + UInt64(index), shield: configuration.shield))
    }
    let rules = definition.dosing
    let actionMilligrams: (Float) -> Double = { action in
      policy.actionMode == .discreteLevels
        ? Double(action) * rules.doseLevelStepMilligrams : Double(action)
    }
    let width = VancomycinObservation.count(for: definition)
    let standard = records.filter { $0.specification.kind == .standard }

    var checks = hardLimitResults(
      records: records, rules: rules, limits: definition.actuatorLimits)
    // The probe row is the second decision's first observation of the
    // first site, which has a dose history and (usually) a peak.
    let probeBatch = standard[0].observations[min(1, standard[0].observations.count - 1)]
    checks += nonFiniteResults(
      records: records, probeRule: try policy.screenedRule(at: sites[0]),
      probeRow: Array(probeBatch[0..<width]),
      observationNames: VancomycinObservation.names(for: definition),
      actionMilligrams: actionMilligrams)
    checks += exposureResults(records: records, thresholds: exposureThresholds)
    checks += clinicalSanityResults(
      records: standard,
      rules: try standard.map { try policy.screenedRule(at: $0.specification.site).rule },
      width: width, rowsPerCohort: configuration.sanityRowsPerCohort,
      tolerance: configuration.sanityTolerance, seed: configuration.seed,
      actionMilligrams: actionMilligrams)

    let thresholdSource =
      thresholdsFromCaller
      ? "supplied by the caller" : "from the definition's safety section"
    let notes = [
      "exposure thresholds \(thresholdSource): "
        + exposureThresholds.map {
          "\($0.name) (\($0.outcome), maximum rate \(formatted($0.maximumRate * 100))%)"
        }.joined(separator: ", "),
      "clinical sanity compares requested doses before the actuator; a perturbed row keeps its "
        + "other entries, including the MAP estimate entries",
    ]
    return SafetyReport(
      policy: policy.name, environment: definition.name,
      patientsPerCohort: configuration.patientsPerCohort, seed: configuration.seed,
      checks: checks, cohorts: records.map(summary),
      interventionKinds: SafetyReport.interventionKinds(
        columnNames: records.first?.table.columnNames ?? []),
      notes: notes)
  }

  private func summary(_ record: CohortRecord) -> CohortSummary {
    var interventions: [String: Int] = [:]
    for name in record.table.columnNames where name.hasPrefix("interventions") {
      let kind = String(name.dropFirst("interventions".count))
      interventions[kind] = Int((record.table[column: name] ?? []).reduce(0, +))
    }
    return CohortSummary(
      name: record.specification.name, patients: record.patientCount,
      interventions: interventions, rejectedRows: record.rejectedRows.count)
  }
}
