import Foundation
import TitratePKPD
import TitrateRandom

/// Warfarin initiation and maintenance for a batch of virtual patients,
/// defined by a `WarfarinDefinition` (Hamberg 2007 PK/PD).
///
/// A step is one day: the action is that day's racemic dose, taken at the
/// start of the day, and the model then runs 24 h on the RK4 grid. The
/// INR is drawn in the morning of each day in `measurements.inrDays`
/// (therapy day 1 is the first dose day), before that day's dose, with
/// log-normal residual error, rounded to the reporting resolution. Every
/// episode ends after `episodeDays` steps with `terminated` true (the day
/// is part of the observation) and restarts in the same step (see
/// `EnvironmentStep`), unless `automaticallyResets` is off.
///
/// Reward per day: `inRangeRewardPerDay` x (fraction of the day's grid
/// points with true INR in the target range) - the penalty weight x (the
/// fraction above the bleeding threshold). Cost per day: the fraction of
/// grid points above the bleeding threshold.
///
/// Random streams: patients and measurement noise use two generators
/// derived from the reset seed and `streamIdentifier`.
public final class WarfarinEnvironment: DosingEnvironment {
  /// The definition the environment was built from.
  public let definition: WarfarinDefinition
  public let batchSize: Int
  public let observationSize = WarfarinObservation.count
  public let actionSpace: ActionSpace
  /// The meaning of actions (dose level index or mg).
  public let actionMode: DoseActionMode
  /// Extra stream identifier mixed into every seed (for example a site id).
  public let streamIdentifier: UInt64
  /// See `DosingEnvironment.recordsOutcomeTable`; off by default.
  public var recordsOutcomeTable = false
  /// See `DosingEnvironment.automaticallyResets`.
  public var automaticallyResets = true

  /// Days simulated in the current episode (0 at its start).
  public private(set) var day = 0
  /// The current patients, one per environment.
  public private(set) var patients: [WarfarinPatient] = []
  /// The model of the current patients.
  public private(set) var model: WarfarinBatchModel

  let sampler: WarfarinPatientSampler
  let episodeDays: Int
  /// Measurement days as 0-based day indices (therapy day - 1).
  let measurementDayIndices: [Int]
  var integrator: BatchedRungeKutta4
  var state: [Double] = []
  var patientGenerator = Xoshiro256(seed: 0)
  var noiseGenerator = Xoshiro256(seed: 0)
  var records: WarfarinEpisodeRecords
  var tally = EpisodeOutcomeTally()
  var table: OutcomeTable
  var baselineStates: [String: WarfarinBaselineState] = [:]

  /// Creates a batch of environments and starts their first episode with
  /// seed 0 (call `reset(seed:)` to choose the seed).
  /// - Parameters:
  ///   - definition: a validated definition (as `WarfarinDefinition.load`
  ///     returns).
  ///   - batchSize: environments per batch, at least 1.
  ///   - streamIdentifier: mixed into the seeds of both random streams.
  ///   - actionMode: discrete dose levels (default) or mg.
  /// - Throws: `WarfarinEnvironmentError.invalidBatchSize` below 1.
  public init(
    definition: WarfarinDefinition, batchSize: Int, streamIdentifier: UInt64 = 0,
    actionMode: DoseActionMode = .discreteLevels
  ) throws(WarfarinEnvironmentError) {
    guard batchSize >= 1 else { throw .invalidBatchSize(batchSize) }
    self.definition = definition
    self.batchSize = batchSize
    self.streamIdentifier = streamIdentifier
    self.actionMode = actionMode
    let dosing = definition.dosing
    switch actionMode {
    case .discreteLevels: actionSpace = .discrete(count: dosing.doseLevelCount)
    case .continuousMilligrams:
      actionSpace = .continuous(low: 0, high: Float(dosing.maximumDailyDoseMilligrams))
    }
    episodeDays = dosing.episodeDays
    measurementDayIndices = definition.measurements.inrDays.map { $0 - 1 }
    sampler = WarfarinPatientSampler(definition: definition)
    let modelDefinition = definition.model
    let placeholder = sampler.parameters(
      ageYears: modelDefinition.clearanceReferenceAgeYears, cyp2c9: .star1Star1, vkorc1: .gg,
      etas: [0, 0, 0, 0, 0, 0])
    model = WarfarinBatchModel(
      parameters: [WarfarinParameters](repeating: placeholder, count: batchSize),
      fastChainCompartments: modelDefinition.fastChainCompartments,
      slowChainCompartments: modelDefinition.slowChainCompartments)
    integrator = BatchedRungeKutta4(
      stateCount: model.stateCount, patientCount: batchSize,
      nonNegativeComponents: WarfarinBatchModel.nonNegativeComponents)
    records = WarfarinEpisodeRecords(
      patientCount: batchSize, episodeDays: episodeDays,
      measurementCount: measurementDayIndices.count)
    table = OutcomeTable(
      columnNames: Self.outcomeColumnNames(episodeDays: episodeDays))
    _ = reset(seed: 0)
  }

  public func reset(seed: UInt64) -> [Float] {
    let streamBase = stableHash("warfarin#\(streamIdentifier)")
    patientGenerator = Xoshiro256(seed: seed, stream: streamBase)
    noiseGenerator = Xoshiro256(seed: seed, stream: streamBase ^ 0x6E6F_6973_6500_0001)
    startEpisodes()
    return observations()
  }

  /// Replaces the patients of the current episode (for evaluation on a
  /// fixed cohort or for tests). Only allowed before the first decision.
  /// - Throws: `WarfarinEnvironmentError` when the count differs from
  ///   `batchSize` or a day was already simulated.
  public func setPatients(_ newPatients: [WarfarinPatient]) throws(WarfarinEnvironmentError) {
    guard newPatients.count == batchSize else {
      throw .patientCountMismatch(expected: batchSize, received: newPatients.count)
    }
    guard day == 0 else { throw .patientsOutsideEpisodeStart(decisionsTaken: day) }
    install(newPatients)
  }

  /// The true (noise-free) INR of every patient now.
  public var trueINRs: [Double] {
    state.withUnsafeBufferPointer { buffer in
      (0..<batchSize).map { model.inr(state: buffer.baseAddress!, patient: $0) }
    }
  }

  public func step(actions: [Float]) -> EnvironmentStep {
    precondition(
      actions.count == batchSize, "expected \(batchSize) actions, got \(actions.count)")
    precondition(
      day < episodeDays, "the episodes ended and automatic reset is off; call reset(seed:) first")
    var rewards = [Float](repeating: 0, count: batchSize)
    var costs = [Float](repeating: 0, count: batchSize)
    administerDoses(actions)
    simulateDay(rewards: &rewards, costs: &costs)
    day += 1
    measureINRIfScheduled()

    return .fixedLengthEpisodes(
      batchSize: batchSize, rewards: rewards, costs: costs,
      episodeEnded: day == episodeDays, automaticallyResets: automaticallyResets,
      observe: observations, recordEnded: recordEndedEpisodes, restart: startEpisodes)
  }

  public func drainEpisodeOutcomes() -> EpisodeOutcomeTally { tally.drain() }

  public func drainOutcomeTable() -> OutcomeTable { table.drain() }

  // MARK: Episode start

  private func startEpisodes() {
    let newPatients = sampler.samplePatients(count: batchSize, using: &patientGenerator)
    install(newPatients)
  }

  private func install(_ newPatients: [WarfarinPatient]) {
    patients = newPatients
    day = 0
    model = WarfarinBatchModel(
      parameters: newPatients.map(\.parameters),
      fastChainCompartments: model.fastChainCompartments,
      slowChainCompartments: model.slowChainCompartments)
    state = model.initialState()
    records.clear()
    baselineStates = [:]
    let inrs = trueINRs
    for p in 0..<batchSize { records.trueDailyINR[p] = inrs[p] }
    measureINRIfScheduled()
  }
}
