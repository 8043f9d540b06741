import Foundation

/// The propofol anaesthesia environment as data
/// (`Environments/pkpd/propofol.json`): the Schnider 1998 PK with effect
/// site, a sigmoid Emax BIS model, the virtual population, dosing, the BIS
/// monitor, reward and the PID baseline. Decoded strictly: a missing,
/// mistyped, unknown or out-of-range field is reported with its JSON path
/// and fix.
public struct PropofolDefinition: Codable, Sendable, Equatable, PKPDDefinitionFile {
  /// The file format version this build reads.
  public static let supportedFormatVersion = 1
  static let kindKeyword = "propofol"

  /// File format version; must equal `supportedFormatVersion`.
  public var formatVersion: Int
  /// Environment family; must be `propofol`.
  public var kind: String
  /// Short identifier.
  public var name: String
  /// Free text: what the environment models.
  public var description: String
  /// Papers the constants come from.
  public var sources: [LiteratureSource]
  /// The PK model the patients follow.
  public var pharmacokineticModel: PropofolPharmacokineticModel
  /// Schnider PK constants.
  public var model: PropofolModelDefinition
  /// Eleveld PK constants.
  public var eleveld: EleveldModelDefinition
  /// BIS response of the typical patient.
  public var bis: SigmoidEmaxBIS
  /// Between-subject variability.
  public var variability: PropofolVariabilityDefinition
  /// Covariate distributions.
  public var population: PropofolPopulationDefinition
  /// Decision interval, limits, bolus and episode length.
  public var dosing: PropofolDosingDefinition
  /// BIS monitor delay and noise.
  public var measurement: PropofolMeasurementDefinition
  /// Target band and reward weights.
  public var reward: PropofolRewardDefinition
  /// PID baseline gains.
  public var pid: PropofolPIDDefinition
  /// Exposure thresholds for `titrate verify`; nil when the file has no
  /// `safety` section (optional).
  public var safety: PKPDSafetyDefinition?

  /// The bytes this definition was decoded from (empty when built in code).
  public internal(set) var sourceJSON = Data()

  enum CodingKeys: String, CodingKey {
    case formatVersion, kind, name, description, sources, pharmacokineticModel, model, eleveld
    case bis, variability, population
    case dosing, measurement, reward, pid, safety
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
    eleveld.validate(path: "eleveld", &issues)
    bis.validate(path: "bis", &issues)
    variability.validate(path: "variability", &issues)
    population.validate(path: "population", &issues)
    dosing.validate(path: "dosing", &issues)
    measurement.validate(
      path: "measurement", decisionIntervalSeconds: dosing.decisionIntervalSeconds, &issues)
    reward.validate(path: "reward", episodeMinutes: dosing.episodeMinutes, &issues)
    pid.validate(path: "pid", &issues)
    safety?.validate(path: "safety", outcomes: PropofolEnvironment.outcomeColumnNames, &issues)
  }
}
