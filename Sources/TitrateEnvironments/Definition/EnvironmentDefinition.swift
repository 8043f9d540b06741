import Foundation
import TitrateHashing

/// A dosing environment defined as data: population PK models, site
/// populations, dosing rules, measurements, reward, cost, actuator limits
/// and baselines. Loaded from a JSON file (`Environments/vancomycin.json`),
/// with every problem reported by its JSON path.
///
/// The raw JSON bytes are kept in `sourceJSON` (with `contentHashSHA256`)
/// so that a checkpoint can store exactly the definition it was trained on.
public struct EnvironmentDefinition: Codable, Sendable, Equatable {
  /// The file format version this build reads.
  public static let supportedFormatVersion = 1

  /// File format version; must equal `supportedFormatVersion`.
  public var formatVersion: Int
  /// Short identifier (`vancomycin`).
  public var name: String
  /// Free text: what the environment models.
  public var description: String
  /// Papers and guidelines the constants come from.
  public var sources: [LiteratureSource]
  /// Population PK models by key.
  public var models: [String: PopulationModelDefinition]
  /// Site populations by name (non-IID sites of a federation).
  public var populations: [String: SitePopulationDefinition]
  /// Decision times, dose levels, infusion and simulation grid.
  public var dosing: DosingRules
  /// Draw times of the measured levels.
  public var measurements: MeasurementSchedule
  /// Reward per step.
  public var reward: RewardDefinition
  /// Safety cost per step.
  public var cost: CostDefinition
  /// Limits the dose actuator enforces.
  public var actuatorLimits: ActuatorLimits
  /// Parameters of the built-in baselines.
  public var baselines: BaselineDefinitions
  /// MAP estimates as extra observation features; nil (the key absent or
  /// null) keeps the 21-entry observation.
  public var bayesianEstimate: BayesianEstimateDefinition?
  /// Exposure thresholds and the predictive shield; nil (absent or null)
  /// when the file defines none.
  public var safety: SafetyDefinition?
  /// Covariates of edge patients, which training mixes into every site's
  /// patients (`titrate train --edge-patients`); nil (absent or null) when
  /// the file defines none.
  public var edgeCovariates: EdgeCovariatesDefinition?

  /// The bytes this definition was decoded from (empty when built in code).
  public internal(set) var sourceJSON = Data()

  enum CodingKeys: String, CodingKey {
    case formatVersion, name, description, sources, models, populations, dosing
    case measurements, reward, cost, actuatorLimits, baselines, bayesianEstimate, safety
    case edgeCovariates
  }

  public func encode(to encoder: any Encoder) throws {
    // Written by hand so that an absent `bayesianEstimate` is written as
    // null: the unknown-key check compares the file with this encoding.
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(formatVersion, forKey: .formatVersion)
    try container.encode(name, forKey: .name)
    try container.encode(description, forKey: .description)
    try container.encode(sources, forKey: .sources)
    try container.encode(models, forKey: .models)
    try container.encode(populations, forKey: .populations)
    try container.encode(dosing, forKey: .dosing)
    try container.encode(measurements, forKey: .measurements)
    try container.encode(reward, forKey: .reward)
    try container.encode(cost, forKey: .cost)
    try container.encode(actuatorLimits, forKey: .actuatorLimits)
    try container.encode(baselines, forKey: .baselines)
    try container.encode(bayesianEstimate, forKey: .bayesianEstimate)
    try container.encode(safety, forKey: .safety)
    try container.encode(edgeCovariates, forKey: .edgeCovariates)
  }

  /// SHA-256 of `sourceJSON`, lowercase hex.
  public var contentHashSHA256: String { SHA256.hexString(SHA256.hash([UInt8](sourceJSON))) }

  /// Population names in sorted order.
  public var populationNames: [String] { populations.keys.sorted() }

  /// Reads, decodes and validates a definition file.
  /// - Throws: `EnvironmentDefinitionError` naming the file, the JSON path
  ///   of each bad field, the value, the allowed range and the fix.
  public static func load(from url: URL) throws(EnvironmentDefinitionError)
    -> EnvironmentDefinition
  {
    try decode(from: try readDefinitionFile(url))
  }

  /// Decodes and validates a definition from JSON bytes (a file's content or
  /// the copy a checkpoint stored). Unknown keys are rejected.
  public static func decode(from data: Data) throws(EnvironmentDefinitionError)
    -> EnvironmentDefinition
  {
    var definition = try decodeStrictly(EnvironmentDefinition.self, from: data)
    definition.sourceJSON = data
    try definition.validate()
    return definition
  }

  /// Lists the definition files (`*.json`) in a folder, sorted by name.
  /// - Throws: `EnvironmentDefinitionError.unreadableFile` when the folder
  ///   cannot be listed.
  public static func definitionFiles(in directory: URL) throws(EnvironmentDefinitionError)
    -> [URL]
  {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    } catch {
      throw .unreadableFile(path: directory.path, reason: error.localizedDescription)
    }
    return names.filter { $0.hasSuffix(".json") }.sorted().map {
      directory.appendingPathComponent($0)
    }
  }

  /// Loads every definition file in a folder, sorted by file name.
  public static func loadAll(in directory: URL) throws(EnvironmentDefinitionError)
    -> [EnvironmentDefinition]
  {
    var definitions: [EnvironmentDefinition] = []
    for url in try definitionFiles(in: directory) {
      definitions.append(try load(from: url))
    }
    return definitions
  }
}
