import Foundation
import TitratePKPD
import TitrateRandom

/// Errors from building or changing a linear-kind environment.
public enum LinearEnvironmentError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The batch size is below 1.
  case invalidBatchSize(Int)
  /// `setPatients` received the wrong number of patients.
  case patientCountMismatch(expected: Int, received: Int)
  /// `setPatients` was called after the first decision of an episode.
  case patientsOutsideEpisodeStart(decisionsTaken: Int)
  /// A patient's parameters were rejected by the PK core.
  case invalidPatient(String)

  public var description: String {
    switch self {
    case .invalidBatchSize(let size):
      return "batch size \(size) is invalid; use 1 or more environments per batch"
    case .patientCountMismatch(let expected, let received):
      return "received \(received) patients for a batch of \(expected); pass one per environment"
    case .patientsOutsideEpisodeStart(let decisions):
      return "patients can only be replaced before the first decision (\(decisions) taken); "
        + "call reset(seed:) first"
    case .invalidPatient(let reason):
      return "a patient's PK parameters are invalid: \(reason); check the covariates and model"
    }
  }
}

/// A batch of virtual patients on a drug defined by a `LinearDefinition`,
/// stepped exactly by the matrix-exponential PK core (AUC is a state).
///
/// Cycle k starts with dose k at t_k (dose 0 is `dosing.initialDose`).
/// Levels are drawn at `measurements.levelHoursAfterDose` after t_k with
/// the model's residual error, and decision k is taken at t_k +
/// `decisionHoursAfterDose`. The action (dose level, interval) sets t_(k+1)
/// = t_k + interval and dose k + 1. A step runs each patient to the end of
/// its cycle k and scores that cycle (peak on the grid, trough just before
/// the next dose, cycle AUC). It then gives dose k + 1 and runs to decision
/// k + 1, so patients with different intervals sit at different times. The
/// episode ends after `decisionsPerEpisode` scored cycles, at the end of
/// the last one; the dose part of the last action is not given.
///
/// Random streams: patients and measurement noise use two generators
/// derived from the reset seed and `streamIdentifier`.
public final class LinearEnvironment: DosingEnvironment {
  /// The definition the environment was built from.
  public let definition: LinearDefinition
  public let batchSize: Int
  public let observationSize: Int
  public let actionSpace: ActionSpace
  /// Extra stream identifier mixed into every seed (for example a site id).
  public let streamIdentifier: UInt64
  /// See `DosingEnvironment.recordsOutcomeTable`; off by default.
  public var recordsOutcomeTable = false
  /// See `DosingEnvironment.automaticallyResets`.
  public var automaticallyResets = true
  /// When true, every grid concentration of every patient is appended to
  /// `concentrationTrace` (for tests and `simulate`); off by default.
  public var recordsConcentrationTrace = false
  /// True central concentration of each patient at every grid point since
  /// the episode start (index = grid step), mg/L; filled only while
  /// `recordsConcentrationTrace` is on.
  public internal(set) var concentrationTrace: [[Double]] = []
  /// Exact central AUC of each patient from the episode start to every
  /// grid point (index = grid step), mg h/L; filled with
  /// `concentrationTrace`. A cycle's AUC is the difference of two entries,
  /// exact also across the jump of an IV bolus.
  public internal(set) var aucTrace: [[Double]] = []

  /// Decisions taken in the current episode.
  public internal(set) var decisionsTaken = 0
  /// The current patients, one per environment.
  public internal(set) var patients: [LinearPatient] = []

  let sampler: LinearPatientSampler
  let gridSteps: (infusion: Int, decision: Int, levels: [Int])
  var batch: PharmacokineticBatch
  var patientGenerator = Xoshiro256(seed: 0)
  var noiseGenerator = Xoshiro256(seed: 0)
  var cycles: LinearCycleState
  var records: LinearEpisodeRecords
  var tally = EpisodeOutcomeTally()
  var table: OutcomeTable
  /// Intervals a non-reassessing chart baseline fixed at the first
  /// decision, by baseline name.
  var chartIntervals: [String: [Double]] = [:]

  /// Creates a batch of environments and starts their first episode with
  /// seed 0 (call `reset(seed:)` to choose the seed).
  /// - Parameters:
  ///   - definition: a validated definition (as `LinearDefinition.load`
  ///     returns); its `cohort`, when set, replaces the distributions.
  ///   - batchSize: environments per batch, at least 1.
  ///   - streamIdentifier: mixed into the seeds of both random streams.
  /// - Throws: `LinearEnvironmentError.invalidBatchSize` below 1.
  public init(definition: LinearDefinition, batchSize: Int, streamIdentifier: UInt64 = 0)
    throws(LinearEnvironmentError)
  {
    guard batchSize >= 1 else { throw .invalidBatchSize(batchSize) }
    self.definition = definition
    self.batchSize = batchSize
    self.streamIdentifier = streamIdentifier
    let dosing = definition.dosing
    let measurements = definition.measurements
    actionSpace = .discrete(count: dosing.actionCount)
    observationSize = LinearObservation.count(for: definition)
    gridSteps = (
      dosing.steps(dosing.infusionHours), dosing.steps(measurements.decisionHoursAfterDose),
      measurements.levelHoursAfterDose.map(dosing.steps)
    )
    sampler = LinearPatientSampler(definition: definition, cohort: definition.cohort)
    let placeholder = sampler.typicalPatient(
      sampler.covariates(
        ageYears: 60, weightKilograms: 70, isFemale: false,
        serumCreatinineMilligramsPerDeciliter: 1, onHaemodialysis: false))
    do {
      batch = try PharmacokineticBatch(
        parameters: [CompartmentalParameters](
          repeating: placeholder.parameters, count: batchSize),
        stepHours: dosing.simulationStepHours)
    } catch {
      throw .invalidPatient("\(error)")
    }
    cycles = LinearCycleState(
      patientCount: batchSize, levelCount: measurements.levelHoursAfterDose.count)
    records = LinearEpisodeRecords(patientCount: batchSize, cycles: dosing.decisionsPerEpisode)
    table = OutcomeTable(columnNames: Self.outcomeColumnNames(cycles: dosing.decisionsPerEpisode))
    _ = reset(seed: 0)
  }

  public func reset(seed: UInt64) -> [Float] {
    let streamBase = stableHash("linear:\(definition.name)#\(streamIdentifier)")
    patientGenerator = Xoshiro256(seed: seed, stream: streamBase)
    noiseGenerator = Xoshiro256(seed: seed, stream: streamBase ^ 0x6E6F_6973_6500_0001)
    startEpisodes()
    return observations()
  }

  /// Replaces the patients of the current episode (for evaluation on a
  /// fixed cohort or for tests) and restarts its first cycle. Only allowed
  /// before the first decision.
  /// - Throws: `LinearEnvironmentError` for a wrong count, a call after a
  ///   decision, or parameters the PK core rejects.
  public func setPatients(_ newPatients: [LinearPatient]) throws(LinearEnvironmentError) {
    guard newPatients.count == batchSize else {
      throw .patientCountMismatch(expected: batchSize, received: newPatients.count)
    }
    guard decisionsTaken == 0 else {
      throw .patientsOutsideEpisodeStart(decisionsTaken: decisionsTaken)
    }
    try install(newPatients)
  }

  /// Each patient's clock time since the episode start, hours.
  public var timesHours: [Double] {
    cycles.currentStep.map { Double($0) * definition.dosing.simulationStepHours }
  }

  /// Each patient's true central concentration now, mg/L.
  public var trueConcentrations: [Double] { batch.centralConcentrationsMilligramsPerLiter() }

  /// Each patient's AUC since the episode start, mg*h/L.
  public var cumulativeAUC: [Double] { batch.centralAUC() }

  /// The levels of the current cycle as reported (with residual error),
  /// mg/L, one array per patient in `levelHoursAfterDose` order.
  public var measuredLevels: [[Double]] {
    (0..<batchSize).map { p in
      (0..<cycles.levelCount).map { cycles.measuredLevels[$0 * batchSize + p] }
    }
  }

  public func step(actions: [Float]) -> EnvironmentStep {
    precondition(
      actions.count == batchSize, "expected \(batchSize) actions, got \(actions.count)")
    precondition(
      decisionsTaken < definition.dosing.decisionsPerEpisode,
      "the episodes ended and automatic reset is off; call reset(seed:) first")
    var rewards = [Float](repeating: 0, count: batchSize)
    var costs = [Float](repeating: 0, count: batchSize)
    let regimen = applyActuator(actions)
    finishCycles(intervalSteps: regimen.intervalSteps)
    scoreCycles(rewards: &rewards, costs: &costs)
    decisionsTaken += 1
    let ended = decisionsTaken == definition.dosing.decisionsPerEpisode
    if !ended { startCycles(dosesMilligrams: regimen.dosesMilligrams) }

    return .fixedLengthEpisodes(
      batchSize: batchSize, rewards: rewards, costs: costs, episodeEnded: ended,
      automaticallyResets: automaticallyResets, observe: observations,
      recordEnded: recordEndedEpisodes, restart: startEpisodes)
  }

  public func drainEpisodeOutcomes() -> EpisodeOutcomeTally { tally.drain() }

  public func drainOutcomeTable() -> OutcomeTable { table.drain() }

  // MARK: Episode start

  func startEpisodes() {
    let newPatients = sampler.samplePatients(count: batchSize, using: &patientGenerator)
    do {
      try install(newPatients)
    } catch {
      preconditionFailure("a sampled patient was rejected by the PK core: \(error)")
    }
  }

  private func install(_ newPatients: [LinearPatient]) throws(LinearEnvironmentError) {
    do {
      batch = try PharmacokineticBatch(
        parameters: newPatients.map(\.parameters),
        stepHours: definition.dosing.simulationStepHours)
    } catch {
      throw .invalidPatient("\(error)")
    }
    batch.prepareJumps(maximumSteps: 1)
    patients = newPatients
    decisionsTaken = 0
    cycles = LinearCycleState(patientCount: batchSize, levelCount: cycles.levelCount)
    records.clear()
    chartIntervals = [:]
    concentrationTrace = [[Double]](
      repeating: recordsConcentrationTrace ? [0] : [], count: batchSize)
    aucTrace = concentrationTrace
    let initial = patients.map { deliverableDose(level: definition.dosing.initialDose, $0) }
    startCycles(dosesMilligrams: initial)
  }
}
