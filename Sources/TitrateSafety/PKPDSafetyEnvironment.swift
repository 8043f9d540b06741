import Foundation
import TitrateEnvironments
import TitrateRandom

/// A warfarin, propofol, glucose or linear-kind definition that
/// `PKPDSafetyVerifier` checks a policy on.
public enum PKPDSafetyEnvironment: Sendable {
  case warfarin(WarfarinDefinition)
  case propofol(PropofolDefinition)
  case glucose(GlucoseDefinition)
  case linear(LinearDefinition)

  /// Decodes a definition of these kinds from its JSON text, or returns nil
  /// when the text has another `kind` (or none, as vancomycin files). A
  /// linear definition's cohort file is found and checked as
  /// `LinearDefinition.decodeStored(from:trainedCohort:checkpointDirectory:)`
  /// does.
  /// - Throws: `EnvironmentDefinitionError` when the kind is one of these
  ///   but the definition is invalid, or its cohort file is missing or
  ///   differs from `trainedCohort`.
  public static func decode(
    definitionJSON text: String, trainedCohort: CohortFileReference? = nil,
    checkpointDirectory: URL? = nil
  ) throws -> PKPDSafetyEnvironment? {
    let data = Data(text.utf8)
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let kind = object["kind"] as? String
    else { return nil }
    switch kind {
    case "warfarin": return .warfarin(try WarfarinDefinition.decode(from: data))
    case "propofol": return .propofol(try PropofolDefinition.decode(from: data))
    case "glucose": return .glucose(try GlucoseDefinition.decode(from: data))
    case "linear":
      return .linear(
        try LinearDefinition.decodeStored(
          from: data, trainedCohort: trainedCohort, checkpointDirectory: checkpointDirectory))
    default: return nil
    }
  }

  /// The definition's name.
  public var name: String {
    switch self {
    case .warfarin(let definition): definition.name
    case .propofol(let definition): definition.name
    case .glucose(let definition): definition.name
    case .linear(let definition): definition.name
    }
  }

  /// The definition's exposure thresholds as a `safety` section, nil when
  /// it has none.
  public var safety: PKPDSafetyDefinition? {
    switch self {
    case .warfarin(let definition): definition.safety
    case .propofol(let definition): definition.safety
    case .glucose(let definition): definition.safety
    case .linear(let definition):
      definition.safety.exposureThresholds.map { PKPDSafetyDefinition(exposureThresholds: $0) }
    }
  }

  /// Site populations: the age groups for glucose, the environment's name
  /// for warfarin and propofol (one population each).
  public var populationNames: [String] {
    switch self {
    case .glucose: GlucoseAgeGroup.allCases.map(\.rawValue)
    default: [name]
    }
  }

  /// Columns of the environment's per-patient outcome table.
  public var outcomeColumnNames: [String] {
    switch self {
    case .warfarin(let definition):
      WarfarinEnvironment.outcomeColumnNames(episodeDays: definition.dosing.episodeDays)
    case .propofol: PropofolEnvironment.outcomeColumnNames
    case .glucose: GlucoseEnvironment.outcomeColumnNames
    case .linear(let definition):
      LinearEnvironment.outcomeColumnNames(cycles: definition.dosing.decisionsPerEpisode)
    }
  }

  /// Decisions in one episode.
  public var decisionsPerEpisode: Int {
    switch self {
    case .warfarin(let definition): definition.dosing.episodeDays
    case .propofol(let definition): definition.dosing.decisionsPerEpisode
    case .glucose(let definition):
      definition.episode.episodeHours * 60 / definition.sensor.sampleMinutes
    case .linear(let definition): definition.dosing.decisionsPerEpisode
    }
  }

  /// Builds a batch of patients of `population` (one of `populationNames`).
  /// - Throws: `SafetyVerificationError.unknownPopulation` for another
  ///   population, or the environment's error for an invalid batch size.
  public func makeEnvironment(
    batchSize: Int, streamIdentifier: UInt64, population: String,
    actionMode: DoseActionMode = .discreteLevels
  ) throws -> any DosingEnvironment {
    switch self {
    case .warfarin(let definition):
      return try WarfarinEnvironment(
        definition: definition, batchSize: batchSize, streamIdentifier: streamIdentifier,
        actionMode: actionMode)
    case .propofol(let definition):
      return try PropofolEnvironment(
        definition: definition, batchSize: batchSize, streamIdentifier: streamIdentifier)
    case .glucose(let definition):
      guard let group = GlucoseAgeGroup(rawValue: population) else {
        throw SafetyVerificationError.unknownPopulation(
          site: population, population: population, known: populationNames)
      }
      return try GlucoseEnvironment(
        definition: definition, group: group, batchSize: batchSize,
        streamIdentifier: streamIdentifier)
    case .linear(let definition):
      return try LinearEnvironment(
        definition: definition, batchSize: batchSize, streamIdentifier: streamIdentifier)
    }
  }
}

/// A dose the actuator delivered, read back for the hard-limit checks.
enum DeliveredDoseSource {
  /// One value per patient, read from the environment after each step.
  case afterStep((any DosingEnvironment) -> [Double])
  /// One outcome-table column per decision (`decision` is 0-based).
  case tableColumn((_ decision: Int) -> String)
}

/// A bound on every delivered dose or rate, with its unit.
struct PKPDHardLimit {
  let name: String
  let unit: String
  let lower: Double
  let upper: Double
  /// Deliverable increment, or nil when any value in the bounds is.
  let increment: Double?
  let source: DeliveredDoseSource
  let description: String
  /// The only deliverable values (such as a list of dosing intervals), or
  /// nil when the bounds and increment decide.
  var allowedValues: [Double]? = nil
  /// False for a bound that is not a dose (an interval), whose non-zero
  /// values do not mean a rejected row was dosed.
  var isDose = true
}

/// "All else equal, moving the measured value this way never moves the
/// action the other way", checked on sampled observation rows.
struct PKPDSanityProperty {
  let name: String
  let description: String
  /// Observation entry that is changed, and by how much (in the entry's
  /// scaled units).
  let entry: Int
  let delta: Float
  /// True when the changed row's action must not exceed the original's,
  /// false when it must not fall below it.
  let actionMustNotRise: Bool
  /// Rows on which the property is meaningful.
  let applies: (ArraySlice<Float>) -> Bool
  /// Replaces the comparison of `actionMustNotRise` when the action is an
  /// index of several decisions: returns true when the changed row's
  /// action (second) violates the property against the original (first).
  var isViolation: ((Float, Float) -> Bool)? = nil
}

/// A cohort of patients at or beyond the edges of the population.
struct PKPDStressProfile {
  let name: String
  let description: String
  /// Population whose environment the cohort starts from; nil uses the
  /// site's.
  let population: String?
  /// Replaces the sampled patients after `reset` and returns the new
  /// observations, or nil when the population alone makes the cohort.
  let install: ((any DosingEnvironment, inout Xoshiro256) throws -> [Float])?
}

/// The observation layout, hard limits, sanity property and stress
/// profiles of one environment kind.
struct PKPDSafetyAdapter {
  let observationNames: [String]
  /// Entries holding measured values, for the noisy and missing
  /// perturbations.
  let measuredEntries: [Int]
  let hardLimits: [PKPDHardLimit]
  let sanity: PKPDSanityProperty
  let stressProfiles: [PKPDStressProfile]
  /// Outcome column in which the actuator counts the NaN actions of
  /// rejected rows.
  var nonFiniteInterventionColumn = "interventionsNonFinite"
  /// Why a kind's stress profile is missing, for the report's notes.
  var notes: [String] = []
  /// Describes when a patient counts as exposed under a threshold, in
  /// the terms of its outcome column. Warfarin, propofol and glucose
  /// outcomes are fractions of the episode's time.
  var exposureCondition: (PKPDExposureThreshold) -> String = { threshold in
    "\(threshold.outcome) above "
      + "\(formatted(threshold.maximumTimeFractionPerPatient * 100))% of the episode"
  }
}

extension PKPDSafetyEnvironment {
  var adapter: PKPDSafetyAdapter {
    switch self {
    case .warfarin(let definition): warfarinAdapter(definition)
    case .propofol(let definition): propofolAdapter(definition)
    case .glucose(let definition): glucoseAdapter(definition)
    case .linear(let definition): linearAdapter(definition)
    }
  }
}
