import Foundation

/// The warfarin dosing environment as data (`Environments/pkpd/warfarin.json`):
/// the Hamberg 2007 PK/PD model, the virtual population, dosing, INR
/// schedule, reward and baselines. Decoded strictly: a missing, mistyped,
/// unknown or out-of-range field is reported with its JSON path and fix.
public struct WarfarinDefinition: Codable, Sendable, Equatable, PKPDDefinitionFile {
  /// The file format version this build reads.
  public static let supportedFormatVersion = 1
  static let kindKeyword = "warfarin"

  /// File format version; must equal `supportedFormatVersion`.
  public var formatVersion: Int
  /// Environment family; must be `warfarin` (lets a catalog tell the
  /// definition kinds apart).
  public var kind: String
  /// Short identifier.
  public var name: String
  /// Free text: what the environment models.
  public var description: String
  /// Papers the constants come from.
  public var sources: [LiteratureSource]
  /// PK/PD model constants.
  public var model: WarfarinModelDefinition
  /// Covariate and genotype distributions of the virtual patients.
  public var population: WarfarinPopulationDefinition
  /// Daily dose levels, episode length and integration step.
  public var dosing: WarfarinDosingDefinition
  /// Days on which the INR is measured and its reporting.
  public var measurements: WarfarinMeasurementDefinition
  /// Target range, bleeding threshold and reward weights.
  public var reward: WarfarinRewardDefinition
  /// IWPC equations and the INR-based adjustment protocol.
  public var baselines: WarfarinBaselineDefinition
  /// Exposure thresholds for `titrate verify`; nil when the file has no
  /// `safety` section (optional).
  public var safety: PKPDSafetyDefinition?

  /// The bytes this definition was decoded from (empty when built in code).
  public internal(set) var sourceJSON = Data()

  enum CodingKeys: String, CodingKey {
    case formatVersion, kind, name, description, sources, model, population, dosing
    case measurements, reward, baselines, safety
  }

  /// SHA-256 of `sourceJSON`, lowercase hex.
  public var contentHashSHA256: String { sourceSHA256 }

  /// Reads, decodes and validates a definition file.
  /// - Throws: `EnvironmentDefinitionError` naming the JSON path of each
  ///   bad field, the value, the allowed range and the fix.
  public static func load(from url: URL) throws(EnvironmentDefinitionError) -> Self {
    try loadDefinition(from: url)
  }

  /// Decodes and validates a definition from JSON bytes. Unknown keys are
  /// rejected.
  public static func decode(from data: Data) throws(EnvironmentDefinitionError) -> Self {
    try decodeDefinition(from: data)
  }

  /// Checks every value against its allowed range and collects all
  /// problems.
  /// - Throws: `EnvironmentDefinitionError.invalid` listing every issue.
  public func validate() throws(EnvironmentDefinitionError) { try validateDefinition() }

  func validateSections(_ issues: inout IssueCollector) {
    model.validate(path: "model", &issues)
    population.validate(path: "population", &issues)
    dosing.validate(path: "dosing", &issues)
    // The schedule is checked against the episode length, so an invalid
    // length is reported alone instead of through every day it excludes.
    let validEpisodeLength = (7...365).contains(dosing.episodeDays)
    if validEpisodeLength {
      measurements.validate(path: "measurements", episodeDays: dosing.episodeDays, &issues)
    }
    reward.validate(path: "reward", &issues)
    baselines.validate(path: "baselines", &issues)
    // The outcome columns depend on the episode length too.
    if validEpisodeLength {
      safety?.validate(
        path: "safety",
        outcomes: WarfarinEnvironment.outcomeColumnNames(episodeDays: dosing.episodeDays), &issues)
    }
  }
}

/// Checks that a table keyed by genotype has a key for every genotype of
/// `Genotype` and no other key.
func validateGenotypeKeys<Genotype: RawRepresentable & CaseIterable>(
  _ table: [String: Double], _ type: Genotype.Type, path: String,
  _ issues: inout IssueCollector
) where Genotype.RawValue == String {
  let allowed = Genotype.allCases.map(\.rawValue)
  for key in table.keys.sorted() where !allowed.contains(key) {
    issues.add(
      jsonPath(path, key),
      "is not a genotype of this table. Use exactly these keys: "
        + allowed.joined(separator: ", ") + ".")
  }
  for key in allowed where table[key] == nil {
    issues.add(jsonPath(path, key), "is missing. Add a value for genotype \(key).")
  }
}
