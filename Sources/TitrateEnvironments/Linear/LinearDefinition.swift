import Foundation

/// A drug on a linear compartmental model, defined entirely as data
/// (`Environments/pkpd/*.json` with `"kind": "linear"`): the population PK
/// model, the patients, the dosing decision, the measurement schedule,
/// targets, safety limits, reward weights, baselines and sources. Decoded
/// strictly: a missing, mistyped, unknown or out-of-range field is
/// reported with its JSON path and fix. Docs/environments/linear-format.md
/// describes every field.
public struct LinearDefinition: Codable, Sendable, Equatable, PKPDDefinitionFile {
  /// The file format version this build reads.
  public static let supportedFormatVersion = 1
  static let kindKeyword = "linear"

  /// File format version; must equal `supportedFormatVersion`.
  public var formatVersion: Int
  /// Environment family; must be `linear`.
  public var kind: String
  /// Short identifier (`gentamicin`).
  public var name: String
  /// Free text: what the environment models.
  public var description: String
  /// Papers the constants come from.
  public var sources: [LiteratureSource]
  /// The population PK model.
  public var model: LinearModelDefinition
  /// The patients' covariate distributions or cohort file.
  public var population: LinearPopulationDefinition
  /// Dose levels, intervals, infusion and simulation grid.
  public var dosing: LinearDosingDefinition
  /// Level draws and the decision time within each cycle.
  public var measurements: LinearMeasurementDefinition
  /// Exposure window, MIC and trough ceiling.
  public var targets: LinearTargetDefinition
  /// Toxicity thresholds and the dose cap.
  public var safety: LinearSafetyDefinition
  /// Reward weights.
  public var reward: LinearRewardDefinition
  /// Baseline policies, at least one.
  public var baselines: [LinearBaselineDefinition]

  /// The bytes this definition was decoded from (empty when built in code).
  public internal(set) var sourceJSON = Data()
  /// The cohort named by `population.cohortFile`, loaded by `load(from:)`,
  /// `decode(from:relativeTo:)` or `decodeStored(from:trainedCohort:checkpointDirectory:)`;
  /// nil when the file names none.
  public internal(set) var cohort: PatientCohort?
  /// The absolute path `cohort` was read from and its SHA-256, which a
  /// checkpoint stores. Nil when the file names no cohort.
  public internal(set) var cohortReference: CohortFileReference?

  enum CodingKeys: String, CodingKey {
    case formatVersion, kind, name, description, sources, model, population, dosing
    case measurements, targets, safety, reward, baselines
  }

  /// SHA-256 of `sourceJSON`, lowercase hex.
  public var contentHashSHA256: String { sourceSHA256 }

  /// Names of the baselines in file order.
  public var baselineNames: [String] { baselines.map(\.name) }

  /// Reads, decodes and validates a definition file; a cohort file is read
  /// relative to the definition's folder.
  /// - Throws: `EnvironmentDefinitionError` naming the JSON path of each
  ///   bad field, the value, the allowed range and the fix.
  public static func load(from url: URL) throws(EnvironmentDefinitionError) -> LinearDefinition {
    try decode(from: try readDefinitionFile(url), relativeTo: url.deletingLastPathComponent())
  }

  /// Decodes and validates a definition from JSON bytes. Unknown keys are
  /// rejected. A relative `population.cohortFile` is resolved against
  /// `directory` (the current directory when nil).
  public static func decode(from data: Data, relativeTo directory: URL? = nil)
    throws(EnvironmentDefinitionError) -> LinearDefinition
  {
    var definition = try decodeDefinition(from: data)
    if let file = definition.population.cohortFile {
      try definition.loadCohort(from: cohortURL(file, relativeTo: directory))
    }
    return definition
  }

  /// Resolves a `population.cohortFile` value against `directory` (the
  /// current directory when nil) into an absolute, standardized URL.
  static func cohortURL(_ file: String, relativeTo directory: URL?) -> URL {
    let base = directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    let url = file.hasPrefix("/") ? URL(fileURLWithPath: file) : base.appendingPathComponent(file)
    return url.absoluteURL.standardizedFileURL
  }

  /// Reads the cohort file at `url` into `cohort` and `cohortReference`.
  mutating func loadCohort(from url: URL) throws(EnvironmentDefinitionError) {
    do {
      let loaded = try PatientCohort.load(from: url)
      cohort = loaded
      cohortReference = CohortFileReference(path: url.path, sha256: loaded.sha256)
    } catch {
      throw .invalid([
        DefinitionIssue(
          path: "population.cohortFile",
          message: "names a cohort that does not load: \(error). Fix the file or the path.")
      ])
    }
  }

  /// Checks every value against its allowed range and collects all
  /// problems.
  /// - Throws: `EnvironmentDefinitionError.invalid` listing every issue.
  public func validate() throws(EnvironmentDefinitionError) { try validateDefinition() }

  func validateSections(_ issues: inout IssueCollector) {
    let keys = sources.map(\.key)
    model.validate(path: "model", sourceKeys: keys, &issues)
    population.covariates.validate(path: "population.covariates", &issues)
    dosing.validate(path: "dosing", route: model.route, &issues)
    // Times are checked against the grid and the intervals, so they are
    // checked only once the dosing block itself is valid.
    let dosingIsValid = issues.issues.allSatisfy { !$0.path.hasPrefix("dosing") }
    if dosingIsValid {
      measurements.validate(path: "measurements", dosing: dosing, &issues)
    }
    targets.validate(path: "targets", &issues)
    safety.validate(path: "safety", cycles: dosing.decisionsPerEpisode, &issues)
    // Levels in mg above the cap could never be delivered. Levels in mg/kg
    // may exceed it for heavy patients, which the cap is there for.
    if dosing.doseBasis == .milligrams, let largest = dosing.doseLevels.max(),
      largest > safety.maximumDoseMilligrams
    {
      issues.add(
        "safety.maximumDoseMilligrams",
        "is \(safety.maximumDoseMilligrams) mg, below the largest dose level (\(largest) mg), "
          + "so the actuator would lower every larger level to it. Raise the cap or remove "
          + "the levels above it.")
    }
    reward.validate(path: "reward", &issues)

    if baselines.isEmpty {
      issues.add("baselines", "is empty. Define at least one baseline policy to compare with.")
    }
    var names: Set<String> = []
    for (index, baseline) in baselines.enumerated() {
      if !names.insert(baseline.name).inserted {
        issues.add("baselines[\(index)].name", "repeats \"\(baseline.name)\". Use unique names.")
      }
      if dosingIsValid {
        baseline.validate(
          path: "baselines[\(index)]", dosing: dosing, measurements: measurements,
          sourceKeys: keys, &issues)
      }
    }
  }
}

/// The patients of a linear-kind environment: covariate distributions,
/// optionally replaced by a site's own cohort file.
public struct LinearPopulationDefinition: Codable, Sendable, Equatable {
  /// Free text: the kind of ward and where the distributions come from.
  public var description: String
  /// One distribution per sampled covariate; creatinine clearance is
  /// derived by Cockcroft-Gault.
  public var covariates: CovariateDistributions
  /// Path of a cohort CSV (columns as in `PatientCohort`), relative to the
  /// definition file; null samples `covariates`.
  public var cohortFile: String?

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(description, forKey: .description)
    try container.encode(covariates, forKey: .covariates)
    try container.encode(cohortFile, forKey: .cohortFile)
  }
}
