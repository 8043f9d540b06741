import TitratePKPD
import TitrateRandom

/// The meaning of an action passed to `VancomycinEnvironment.step(actions:)`.
public enum DoseActionMode: Sendable, Equatable {
  /// Action = dose level index i (dose i x level step, 250 mg in the shipped
  /// file); the action space is `.discrete(count: levels)`.
  case discreteLevels
  /// Action = requested dose in mg; the action space is
  /// `.continuous(low: 0, high: maximum dose level)`.
  case continuousMilligrams
}

/// Errors from creating a `VancomycinEnvironment` or setting its patients.
public enum VancomycinEnvironmentError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The population name is not a key of the definition's `populations`.
  case unknownPopulation(name: String, known: [String])
  /// The batch size is below 1.
  case invalidBatchSize(Int)
  /// `setPatients` received a number of patients other than `batchSize`.
  case patientCountMismatch(expected: Int, received: Int)
  /// `setPatients` was called after the first decision of an episode.
  case patientsOutsideEpisodeStart(decisionIndex: Int)
  /// A patient's parameters are invalid or have the wrong structure.
  case invalidPatient(index: Int, reason: String)
  /// The shield was switched on for a definition without `safety.shield`.
  case shieldNotDefined(environment: String)
  /// The edge-patient fraction lies outside [0, 1).
  case invalidEdgePatientFraction(Double)
  /// Edge patients were requested of a definition without `edgeCovariates`.
  case edgeCovariatesNotDefined(environment: String)
  /// Edge patients were requested together with a site cohort file.
  case edgePatientsWithCohort

  public var description: String {
    switch self {
    case .unknownPopulation(let name, let known):
      return "unknown site population \"\(name)\"; use one of: "
        + known.joined(separator: ", ")
    case .invalidBatchSize(let size):
      return "batch size \(size) is invalid; use at least 1"
    case .patientCountMismatch(let expected, let received):
      return "received \(received) patients for a batch of \(expected); pass one per environment"
    case .patientsOutsideEpisodeStart(let decisionIndex):
      return "patients can only be set at the episode start, but \(decisionIndex) decisions "
        + "were taken; call reset(seed:) first"
    case .invalidPatient(let index, let reason):
      return "patient \(index) is invalid: \(reason)"
    case .shieldNotDefined(let environment):
      return "environment \(environment) defines no predictive shield; add a safety.shield "
        + "section (with bayesianEstimate) to its definition or run without the shield"
    case .invalidEdgePatientFraction(let fraction):
      return "edge-patient fraction \(fraction) is outside [0, 1); use for example 0.05"
    case .edgeCovariatesNotDefined(let environment):
      return "environment \(environment) defines no edgeCovariates; add that section to its "
        + "definition or train without edge patients"
    case .edgePatientsWithCohort:
      return "edge patients replace sampled covariates, but this site draws its covariates "
        + "from a cohort file; remove the cohort or the edge patients"
    }
  }
}

/// Vancomycin dosing for a batch of virtual patients of one site
/// population, defined by an `EnvironmentDefinition`.
///
/// Each environment of the batch contains one patient, drawn at every reset
/// (covariates, then true PK parameters with BSV). A step is one dose
/// decision followed by exact simulation on the definition's grid to the
/// next decision (12 h in the shipped file). All environments run in
/// lockstep: every episode ends after `decisionsPerEpisode` steps (72 h),
/// with `terminated` true (time is part of the observation, so the end is
/// part of the task), and restarts in the same step (see
/// `EnvironmentStep`).
///
/// Doses pass through a `DoseActuator`; an infusion lasts
/// max(minimum, dose / rate limit), rounded up to the grid. Levels are
/// drawn as troughs before each dose from the configured dose number and as
/// peaks after each non-zero infusion, with the true model's residual error.
/// Reward and cost follow `RewardDefinition` and `CostDefinition`.
///
/// Random streams: patients and measurement noise use two generators
/// derived from the reset seed, the stream identifier and the population
/// name, so the same seed gives the same patients and noise, and distinct
/// populations draw from distinct streams.
public final class VancomycinEnvironment: DosingEnvironment, EdgePatientDrawing {
  /// The definition the environment was built from.
  public let definition: EnvironmentDefinition
  /// The site population patients are drawn from.
  public let populationName: String
  public let batchSize: Int
  /// Entries per observation row: 21, or 28 with a `bayesianEstimate`
  /// section (see `VancomycinObservation`).
  public let observationSize: Int
  public let actionSpace: ActionSpace
  /// The meaning of actions (level index or mg).
  public let actionMode: DoseActionMode
  /// Extra stream identifier mixed into every seed (for example a site id).
  public let streamIdentifier: UInt64
  /// When true, every ended episode adds a row to the outcome table
  /// (`drainOutcomeTable()`); off by default to bound memory in training.
  public var recordsOutcomeTable = false
  /// See `DosingEnvironment.automaticallyResets`.
  public var automaticallyResets = true

  /// Dose requests and interventions of all environments since creation.
  public var actuatorCounts: DoseInterventionCounts { actuator.counts }
  /// Decisions taken in the current episode (0 at its start).
  public private(set) var decisionIndex = 0
  /// The current patients, one per environment.
  public private(set) var patients: [VirtualPatient] = []

  var actuator: DoseActuator
  let sampler: PatientSampler
  // The same sampler without edge patients, when `sampler` draws some.
  let populationSampler: PatientSampler?
  /// Whether resets draw edge patients (when the environment was created
  /// with a positive `edgePatientFraction`) or only the population's.
  public var drawsEdgePatients = true
  let rules: DosingRules
  let residualError: ResidualErrorModel
  let state: PatientStateColumns
  var batch: PharmacokineticBatch
  var patientGenerator: Xoshiro256
  var noiseGenerator: Xoshiro256
  var tally = EpisodeOutcomeTally()
  var table: OutcomeTable
  /// Previous decisions whose doses count towards the rolling 24-h limit.
  let windowDoseCount: Int
  /// MAP estimation for observation entries 21 to 27 and the shield; nil
  /// without a `bayesianEstimate` section.
  let bayesianEstimate: VancomycinBayesianEstimate?
  /// Thresholds of the predictive shield while it is on (see
  /// `setShield(enabled:)`); nil while it is off.
  public private(set) var activeShield: ShieldDefinition?

  /// Switches the predictive shield on or off for every later dose. Off by
  /// default. While on, a dose (after the actuator's limits) whose
  /// predicted exposure crosses a `safety.shield` threshold is replaced by
  /// the largest lower dose level that does not, or by 0.
  /// - Throws: `VancomycinEnvironmentError.shieldNotDefined` when the
  ///   definition has no shield section.
  public func setShield(enabled: Bool) throws(VancomycinEnvironmentError) {
    guard enabled else {
      activeShield = nil
      return
    }
    guard let shield = definition.safety?.shield, bayesianEstimate != nil else {
      throw .shieldNotDefined(environment: definition.name)
    }
    activeShield = shield
  }

  /// Switches the predictive shield on with the given thresholds instead
  /// of the definition's (for what-if evaluations).
  /// - Throws: `VancomycinEnvironmentError.shieldNotDefined` when the
  ///   definition has no `bayesianEstimate` section to predict with.
  public func setShield(_ thresholds: ShieldDefinition) throws(VancomycinEnvironmentError) {
    guard bayesianEstimate != nil else { throw .shieldNotDefined(environment: definition.name) }
    activeShield = thresholds
  }

  /// Creates a batch of environments and starts their first episode with
  /// seed 0 (call `reset(seed:)` to choose the seed).
  /// - Parameters:
  ///   - definition: a validated definition (as `load(from:)` returns).
  ///   - populationName: a key of `definition.populations`.
  ///   - batchSize: environments per batch, at least 1.
  ///   - streamIdentifier: mixed into the seeds of both random streams.
  ///   - actionMode: discrete dose levels (default) or mg.
  ///   - cohort: the site's own covariate rows, replacing the population's
  ///     covariate distributions (the PK model and its variability stay).
  ///   - edgePatientFraction: fraction of patients drawn from the
  ///     definition's `edgeCovariates` instead of the population's
  ///     distributions (training only), in [0, 1); 0 draws none.
  /// - Throws: `VancomycinEnvironmentError` for an unknown population, a
  ///   batch size below 1, or edge patients that cannot be drawn.
  public init(
    definition: EnvironmentDefinition, populationName: String, batchSize: Int,
    streamIdentifier: UInt64 = 0, actionMode: DoseActionMode = .discreteLevels,
    cohort: PatientCohort? = nil, edgePatientFraction: Double = 0
  ) throws(VancomycinEnvironmentError) {
    guard let population = definition.populations[populationName] else {
      throw .unknownPopulation(name: populationName, known: definition.populationNames)
    }
    guard batchSize >= 1 else { throw .invalidBatchSize(batchSize) }
    if edgePatientFraction != 0 {
      guard edgePatientFraction > 0, edgePatientFraction < 1 else {
        throw .invalidEdgePatientFraction(edgePatientFraction)
      }
      guard definition.edgeCovariates != nil else {
        throw .edgeCovariatesNotDefined(environment: definition.name)
      }
      guard cohort == nil else { throw .edgePatientsWithCohort }
    }
    self.definition = definition
    self.populationName = populationName
    self.batchSize = batchSize
    self.streamIdentifier = streamIdentifier
    self.actionMode = actionMode
    observationSize = VancomycinObservation.count(for: definition)
    rules = definition.dosing
    switch actionMode {
    case .discreteLevels: actionSpace = .discrete(count: rules.doseLevelCount)
    case .continuousMilligrams:
      actionSpace = .continuous(low: 0, high: Float(rules.maximumDoseLevelMilligrams))
    }
    actuator = DoseActuator(limits: definition.actuatorLimits)
    sampler = PatientSampler(
      definition: definition, populationName: populationName, cohort: cohort,
      edgeFraction: edgePatientFraction)
    populationSampler =
      edgePatientFraction > 0
      ? PatientSampler(definition: definition, populationName: populationName, cohort: nil)
      : nil
    let model = definition.models[population.model]!
    residualError = (population.measurementError ?? model.residualError).errorModel
    let dosesPerDay = Int((24 / rules.decisionIntervalHours - 1e-9).rounded(.up))
    windowDoseCount = dosesPerDay - 1
    state = PatientStateColumns(
      patientCount: batchSize, dayCount: Int((rules.episodeHours / 24).rounded()),
      historyLength: max(2, windowDoseCount), decisionCount: rules.decisionsPerEpisode)
    table = OutcomeTable(
      columnNames: Self.outcomeColumnNames(
        days: state.dayCount, decisions: rules.decisionsPerEpisode))
    patientGenerator = Xoshiro256(seed: 0)
    noiseGenerator = Xoshiro256(seed: 0)
    bayesianEstimate =
      definition.bayesianEstimate == nil
      ? nil
      : VancomycinBayesianEstimate(
        definition: definition, populationName: populationName, batchSize: batchSize)
    // A placeholder batch; `reset(seed:)` replaces it with sampled patients.
    let placeholder = CompartmentalParameters(clearanceLitersPerHour: 1, centralVolumeLiters: 1)
    batch = try! PharmacokineticBatch(parameters: [placeholder], stepHours: 1)
    _ = reset(seed: 0)
  }

  /// Hours since the episode start at the current decision.
  public var hoursSinceStart: Double { Double(decisionIndex) * rules.decisionIntervalHours }

  public func reset(seed: UInt64) -> [Float] {
    let streamBase = stableHash("\(populationName)#\(streamIdentifier)")
    patientGenerator = Xoshiro256(seed: seed, stream: streamBase)
    noiseGenerator = Xoshiro256(seed: seed, stream: streamBase ^ 0x6E6F_6973_6500_0001)
    startEpisodes()
    return observations()
  }

  /// Replaces the patients of the current episode (for evaluation on a
  /// fixed cohort or for tests). Only allowed before the first decision.
  /// - Throws: `VancomycinEnvironmentError` when the count differs from
  ///   `batchSize`, a decision was already taken, or parameters are invalid
  ///   or of a different compartment count than the site's model.
  public func setPatients(_ newPatients: [VirtualPatient]) throws(VancomycinEnvironmentError) {
    guard newPatients.count == batchSize else {
      throw .patientCountMismatch(expected: batchSize, received: newPatients.count)
    }
    guard decisionIndex == 0 else {
      throw .patientsOutsideEpisodeStart(decisionIndex: decisionIndex)
    }
    let expectedPeripherals = sampler.model.compartments - 1
    for (index, patient) in newPatients.enumerated() {
      do {
        try patient.parameters.validate()
      } catch {
        throw .invalidPatient(index: index, reason: "\(error)")
      }
      if patient.parameters.peripheralCount != expectedPeripherals
        || patient.parameters.absorptionRatePerHour != nil
        || patient.parameters.effectSiteRatePerHour != nil
      {
        throw .invalidPatient(
          index: index,
          reason: "expected an IV model with \(expectedPeripherals) peripheral compartment(s)")
      }
    }
    install(newPatients)
  }

  public func step(actions: [Float]) -> EnvironmentStep {
    var rewards = [Float](repeating: 0, count: batchSize)
    var costs = [Float](repeating: 0, count: batchSize)
    decide(actions, rewards: &rewards, costs: &costs)

    return .fixedLengthEpisodes(
      batchSize: batchSize, rewards: rewards, costs: costs,
      episodeEnded: decisionIndex == rules.decisionsPerEpisode,
      automaticallyResets: automaticallyResets, observe: observations,
      recordEnded: recordEndedEpisodes, restart: startEpisodes)
  }

  /// Steps as `step(actions:)` does and writes the same values into
  /// `result`, reusing each of its arrays that already has the batch's
  /// size; see `VectorizedEnvironment.step(actions:into:)`.
  public func step(actions: [Float], into result: inout EnvironmentStep) {
    let count = batchSize
    let ended = decisionIndex + 1 == rules.decisionsPerEpisode
    Self.fill(&result.rewards, count: count, with: 0)
    Self.fill(&result.costs, count: count, with: 0)
    Self.fill(&result.terminated, count: count, with: ended)
    Self.fill(&result.truncated, count: count, with: false)

    // The rows observed after this decision go to `observations`, except
    // that an ended episode that restarts puts them in `finalObservations`.
    let restarts = ended && automaticallyResets
    if bayesianEstimate == nil {
      // Written block by block during the decision, while the block's
      // state is in cache.
      if restarts {
        decide(
          actions, rewards: &result.rewards, costs: &result.costs,
          nextObservations: &result.finalObservations)
      } else {
        decide(
          actions, rewards: &result.rewards, costs: &result.costs,
          nextObservations: &result.observations)
      }
    } else {
      decide(actions, rewards: &result.rewards, costs: &result.costs)
      if restarts {
        observations(into: &result.finalObservations)
      } else {
        observations(into: &result.observations)
      }
    }
    guard ended else { return }

    // The order of `EnvironmentStep.fixedLengthEpisodes`.
    recordEndedEpisodes()
    if restarts {
      startEpisodes()
      observations(into: &result.observations)
    } else {
      result.finalObservations = result.observations
    }
  }

  /// Takes the current decision for every patient and advances to the
  /// next; `rewards` and `costs` must hold `batchSize` zeros.
  private func decide(_ actions: [Float], rewards: inout [Float], costs: inout [Float]) {
    checkDecision(actions)
    actions.withUnsafeBufferPointer { actionBuffer in
      rewards.withUnsafeMutableBufferPointer { rewardBuffer in
        costs.withUnsafeMutableBufferPointer { costBuffer in
          runDecision(
            actionBuffer, rewards: rewardBuffer.baseAddress!, costs: costBuffer.baseAddress!)
        }
      }
    }
    // Refits only the patients that had a level drawn in this interval.
    bayesianEstimate?.estimator.update()
    decisionIndex += 1
  }

  /// `decide(_:rewards:costs:)` that also writes the observation rows of
  /// the next decision into `nextObservations` (resized to `batchSize *
  /// observationSize` entries when needed), for a definition without a
  /// `bayesianEstimate` section.
  private func decide(
    _ actions: [Float], rewards: inout [Float], costs: inout [Float],
    nextObservations: inout [Float]
  ) {
    checkDecision(actions)
    let total = batchSize * observationSize
    if nextObservations.count != total {
      // Every entry is written by `runDecision` below.
      nextObservations = [Float](unsafeUninitializedCapacity: total) { $1 = total }
    }
    actions.withUnsafeBufferPointer { actionBuffer in
      rewards.withUnsafeMutableBufferPointer { rewardBuffer in
        costs.withUnsafeMutableBufferPointer { costBuffer in
          nextObservations.withUnsafeMutableBufferPointer { observationBuffer in
            runDecision(
              actionBuffer, rewards: rewardBuffer.baseAddress!, costs: costBuffer.baseAddress!,
              nextObservations: observationBuffer.baseAddress!)
          }
        }
      }
    }
    decisionIndex += 1
  }

  private func checkDecision(_ actions: [Float]) {
    precondition(
      actions.count == batchSize, "expected \(batchSize) actions, got \(actions.count)")
    precondition(
      decisionIndex < rules.decisionsPerEpisode,
      "the episodes ended and automatic reset is off; call reset(seed:) first")
  }

  /// Sets `values` to `count` copies of `value`, in place when it already
  /// has `count` entries.
  private static func fill<Value>(_ values: inout [Value], count: Int, with value: Value) {
    if values.count == count {
      values.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    } else {
      values = [Value](repeating: value, count: count)
    }
  }

  public func drainEpisodeOutcomes() -> EpisodeOutcomeTally { tally.drain() }

  public func drainOutcomeTable() -> OutcomeTable { table.drain() }

  // MARK: Episode start

  /// Draws new patients and starts an episode for all of them.
  private func startEpisodes() {
    let source = drawsEdgePatients ? sampler : populationSampler ?? sampler
    let newPatients = source.samplePatients(count: batchSize, using: &patientGenerator)
    install(newPatients)
  }

  private func install(_ newPatients: [VirtualPatient]) {
    patients = newPatients
    decisionIndex = 0
    do {
      batch = try PharmacokineticBatch(
        parameters: newPatients.map(\.parameters), stepHours: rules.simulationStepHours)
      batch.prepareJumps(maximumSteps: rules.stepsPerDecision)
    } catch {
      preconditionFailure("sampled parameters were rejected: \(error)")
    }
    state.clearEpisodeState()
    bayesianEstimate?.reset(patients: newPatients)
    let age = state.pointer(.ageYears)
    let weight = state.pointer(.weightKilograms)
    let female = state.pointer(.female)
    let creatinine = state.pointer(.serumCreatinine)
    let clearance = state.pointer(.creatinineClearance)
    let dialysis = state.pointer(.haemodialysis)
    let intensiveCare = state.pointer(.intensiveCare)
    let trueClearance = state.pointer(.clearanceLitersPerHour)
    let trueCentralVolume = state.pointer(.centralVolumeLiters)
    for (p, patient) in newPatients.enumerated() {
      age[p] = patient.ageYears
      weight[p] = patient.weightKilograms
      female[p] = patient.isFemale ? 1 : 0
      creatinine[p] = patient.serumCreatinineMilligramsPerDeciliter
      clearance[p] = patient.creatinineClearanceMillilitersPerMinute
      dialysis[p] = patient.onHaemodialysis ? 1 : 0
      intensiveCare[p] = patient.inIntensiveCare ? 1 : 0
      trueClearance[p] = patient.parameters.clearanceLitersPerHour
      trueCentralVolume[p] = patient.parameters.centralVolumeLiters
      let row = state.covariateRows.baseAddress! + p * PatientStateColumns.Covariate.rowSize
      row[PatientStateColumns.Covariate.ageYears] = Float(age[p])
      row[PatientStateColumns.Covariate.weightKilograms] = Float(weight[p])
      row[PatientStateColumns.Covariate.female] = Float(female[p])
      row[PatientStateColumns.Covariate.serumCreatinine] = Float(creatinine[p])
      row[PatientStateColumns.Covariate.creatinineClearance] = Float(clearance[p])
      row[PatientStateColumns.Covariate.haemodialysis] = Float(dialysis[p])
      row[PatientStateColumns.Covariate.intensiveCare] = Float(intensiveCare[p])
    }
  }
}

/// FNV-1a 64-bit hash: a stream identifier that is stable across runs and
/// platforms (Swift's `Hasher` is seeded per process).
func stableHash(_ text: String) -> UInt64 {
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  for byte in text.utf8 {
    hash ^= UInt64(byte)
    hash = hash &* 0x0000_0100_0000_01b3
  }
  return hash
}
