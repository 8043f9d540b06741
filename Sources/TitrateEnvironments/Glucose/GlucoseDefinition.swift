import Foundation

/// The type 1 diabetes insulin environment as data
/// (`Environments/pkpd/glucose.json`): the UVA/Padova model with
/// simglucose's 30 virtual patients, the CGM, the pump, the meal scenario,
/// the episode, the reward and the basal-bolus baseline. Decoded strictly:
/// a missing, mistyped, unknown or out-of-range field is reported with its
/// JSON path and fix.
public struct GlucoseDefinition: Codable, Sendable, Equatable, PKPDDefinitionFile {
  /// The file format version this build reads.
  public static let supportedFormatVersion = 1
  static let kindKeyword = "glucose"

  /// File format version; must equal `supportedFormatVersion`.
  public var formatVersion: Int
  /// Environment family; must be `glucose`.
  public var kind: String
  /// Short identifier.
  public var name: String
  /// Free text: what the environment models.
  public var description: String
  /// Papers and software the constants come from.
  public var sources: [LiteratureSource]
  /// The virtual patients with their licence notice.
  public var patientTable: GlucosePatientTable
  /// Integration step and eating rate.
  public var model: GlucoseModelDefinition
  /// CGM sampling and noise.
  public var sensor: GlucoseSensorDefinition
  /// Pump limits and increments.
  public var pump: GlucosePumpDefinition
  /// Random daily meal scenario.
  public var meals: GlucoseMealDefinition
  /// Episode length and action range.
  public var episode: GlucoseEpisodeDefinition
  /// Glucose ranges and reward weights.
  public var reward: GlucoseRewardDefinition
  /// Basal-bolus baseline settings.
  public var baseline: GlucoseBaselineDefinition
  /// Exposure thresholds for `titrate verify`; nil when the file has no
  /// `safety` section (optional).
  public var safety: PKPDSafetyDefinition?

  /// The bytes this definition was decoded from (empty when built in code).
  public internal(set) var sourceJSON = Data()

  enum CodingKeys: String, CodingKey {
    case formatVersion, kind, name, description, sources, patientTable, model, sensor, pump
    case meals, episode, reward, baseline, safety
  }

  /// SHA-256 of `sourceJSON`, lowercase hex.
  public var contentHashSHA256: String { sourceSHA256 }

  /// Returns the patients of one age group, or all patients for nil, in
  /// table order.
  public func patients(in group: GlucoseAgeGroup?) -> [GlucosePatient] {
    patientTable.patients.filter { group == nil || $0.group == group }
  }

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
    // The stability check needs a valid step; an invalid one is reported
    // under `model` alone.
    let step = model.integrationStepMinutes
    let validStep = step.isFinite && step > 0 && step <= 1
    patientTable.validate(
      path: "patientTable", stabilityStepMinutes: validStep ? step : nil, &issues)
    model.validate(path: "model", &issues)
    sensor.validate(path: "sensor", &issues)
    pump.validate(path: "pump", &issues)
    meals.validate(path: "meals", &issues)
    episode.validate(path: "episode", sensorSampleMinutes: sensor.sampleMinutes, &issues)
    reward.validate(path: "reward", &issues)
    baseline.validate(path: "baseline", &issues)
    safety?.validate(path: "safety", outcomes: GlucoseEnvironment.outcomeColumnNames, &issues)
  }
}

/// The virtual patients and the notice their licence requires.
public struct GlucosePatientTable: Codable, Sendable, Equatable {
  /// Key of the entry in `sources` the table comes from.
  public var source: String
  /// The licence notice of the copied table (MIT, simglucose).
  public var license: String
  /// The patients; each age group needs at least one.
  public var patients: [GlucosePatient]

  /// Checks the table; with `stabilityStepMinutes`, also each patient's
  /// rates against the RK4 stability limit at that step.
  func validate(path: String, stabilityStepMinutes: Double?, _ issues: inout IssueCollector) {
    if license.isEmpty {
      issues.add(
        jsonPath(path, "license"), "is empty. Keep the licence notice of the copied table.")
    }
    for group in GlucoseAgeGroup.allCases where !patients.contains(where: { $0.group == group }) {
      issues.add(
        jsonPath(path, "patients"),
        "has no patient in group \(group.rawValue). Add at least one, because each group is a site.")
    }
    var seen = Set<String>()
    for (index, patient) in patients.enumerated() {
      let itemPath = "\(jsonPath(path, "patients"))[\(index)]"
      if !seen.insert(patient.name).inserted {
        issues.add(
          jsonPath(itemPath, "name"), "is \"\(patient.name)\", a repeated name. Make it unique.")
      }
      patient.validate(path: itemPath, &issues)
      if let stabilityStepMinutes {
        patient.parameters.validateStability(
          path: jsonPath(itemPath, "parameters"), patientName: patient.name,
          stepMinutes: stabilityStepMinutes, &issues)
      }
    }
  }
}

extension GlucoseAgeGroup {
  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(GlucoseAgeGroup.self, from: decoder)
  }
}

extension GlucosePatient {
  func validate(path: String, _ issues: inout IssueCollector) {
    issues.requireRange(ageYears, jsonPath(path, "ageYears"), 1, 100, unit: "years")
    issues.requireRange(
      carbohydrateRatioGramsPerUnit, jsonPath(path, "carbohydrateRatioGramsPerUnit"), 1, 100,
      unit: "g/U")
    issues.requireRange(
      correctionFactorMilligramsPerDeciliterPerUnit,
      jsonPath(path, "correctionFactorMilligramsPerDeciliterPerUnit"), 1, 500, unit: "mg/dL/U")
    issues.requireRange(
      totalDailyInsulinUnits, jsonPath(path, "totalDailyInsulinUnits"), 1, 300, unit: "U/day")
    let stateCount = UVAPadovaState.allCases.count
    if initialState.count != stateCount {
      issues.add(
        jsonPath(path, "initialState"),
        "has \(initialState.count) values, but the model has \(stateCount) states. "
          + "List them in simglucose's x0_1 ... x0_13 order.")
    }
    for (index, value) in initialState.enumerated() where !(value.isFinite && value >= 0) {
      issues.add(
        "\(jsonPath(path, "initialState"))[\(index)]",
        "is \(format(value)), but states must be finite and >= 0. Use the basal steady state.")
    }
    parameters.validate(path: jsonPath(path, "parameters"), &issues)
  }
}

extension UVAPadovaParameters {
  func validate(path: String, _ issues: inout IssueCollector) {
    // bw has its own range below, so it is left out here to report a bad
    // value once.
    for (name, value) in zip(Self.names, values) where name != "bw" {
      // Fractions b, d and f lie in (0, 1]; every other parameter is a
      // positive rate, mass, volume or threshold.
      let isFraction = ["b", "d", "f"].contains(name)
      issues.requireRange(
        value, jsonPath(path, name), 0, isFraction ? 1 : 1e6, unit: "", lowOpen: true,
        fix: isFraction
          ? "Use a fraction in (0, 1]." : "Use the positive value of the patient's table.")
    }
    issues.requireRange(bw, jsonPath(path, "bw"), 5, 300, unit: "kg")
    // b above 1 already fails the fraction range, so only b = 1 is left.
    if b == 1 {
      issues.add(
        jsonPath(path, "b"),
        "is \(format(b)), but must be below 1 because the emptying curve divides by 1 - b. "
          + "Use the value of the patient's table.")
    }
  }
}
