import Foundation
import TitratePKPD
import TitrateRandom

/// Insulin dosing in type 1 diabetes for a batch of simglucose virtual
/// patients, defined by a `GlucoseDefinition` (UVA/Padova model).
///
/// Each environment of the batch draws one patient of its age group (all
/// 30 for a nil group) and a random meal scenario per day, and starts at
/// the patient's basal steady state at midnight. A step lasts one CGM
/// sample interval (3 min for the Dexcom sensor).
///
/// Action: a multiplier in [0, `maximumInsulinMultiplier`] on the insulin
/// of the basal-bolus baseline for this step, so 1 reproduces the
/// baseline. That insulin is the basal rate u2ss x BW / 6000 U/min and,
/// when a meal is announced to start within the step, a bolus of
/// carbohydrate / CR plus (CGM - target) / CF when the CGM is above the
/// correction threshold. The pump then rounds the basal rate (U/h) and
/// the bolus (U) to its increments and caps them at its maxima; the bolus
/// is spread evenly over the step's minutes. Non-finite or negative
/// actions deliver no insulin, and actions above the maximum the maximum;
/// each intervention is counted in the outcome table.
///
/// Reward per step, from the true blood glucose BG at the step's end:
/// `inRangeRewardPerStep` when BG is in the target range, minus
/// `riskPenaltyPerStep` x Kovatchev risk(BG), minus
/// `lowRiskPenaltyPerStep` x risk(BG) when BG is below 112.5 mg/dL, minus
/// `belowRangePenaltyPerStep` when BG is below the range. Cost per step:
/// 1 when BG is below `costThresholdMilligramsPerDeciliter` (the lower end
/// of the range when absent). Episodes last `episodeHours`, end with
/// `terminated` true and restart in the same step unless
/// `automaticallyResets` is off. There is no early termination: severe
/// hypo- and hyperglycaemia are scored, not cut off.
///
/// Random streams: patients with their meals, and CGM noise, use two
/// generators derived from the reset seed and `streamIdentifier`.
public final class GlucoseEnvironment: DosingEnvironment {
  /// The definition the environment was built from.
  public let definition: GlucoseDefinition
  /// The age group the patients come from, or nil for all patients.
  public let group: GlucoseAgeGroup?
  public let batchSize: Int
  public let observationSize = GlucoseObservation.count
  /// Continuous insulin multiplier in [0, maximumInsulinMultiplier].
  public let actionSpace: ActionSpace
  /// Extra stream identifier mixed into every seed (for example a site id).
  public let streamIdentifier: UInt64
  /// See `DosingEnvironment.recordsOutcomeTable`; off by default.
  public var recordsOutcomeTable = false
  /// See `DosingEnvironment.automaticallyResets`.
  public var automaticallyResets = true

  /// Decisions taken in the current episode (0 at its start).
  public internal(set) var decision = 0
  /// Indices into `definition.patientTable.patients` of the current
  /// patients, one per environment.
  public private(set) var patientIndices: [Int] = []
  /// The patients of the current episode with their states.
  public let patients: GlucosePatientBatch

  let candidates: [Int]
  let decisionsPerEpisode: Int
  let sampleMinutes: Int
  var meals: [[(minute: Int, grams: Double)]] = []
  var nextMeal: [Int] = []
  var noise: CGMNoise
  var patientGenerator = Xoshiro256(seed: 0)
  var noiseGenerator = Xoshiro256(seed: 0)
  var records: GlucoseEpisodeRecords
  var tally = EpisodeOutcomeTally()
  var table: OutcomeTable
  let buffers: GlucoseStepBuffers

  /// Creates a batch of environments and starts their first episode with
  /// seed 0 (call `reset(seed:)` to choose the seed).
  /// - Parameters:
  ///   - definition: a validated definition (as `GlucoseDefinition.load`
  ///     returns).
  ///   - group: the age group to draw patients from, nil for all.
  ///   - batchSize: environments per batch, at least 1.
  ///   - streamIdentifier: mixed into the seeds of both random streams.
  /// - Throws: `BatchEnvironmentError.invalidBatchSize` below 1.
  public init(
    definition: GlucoseDefinition, group: GlucoseAgeGroup?, batchSize: Int,
    streamIdentifier: UInt64 = 0
  ) throws(BatchEnvironmentError) {
    guard batchSize >= 1 else { throw .invalidBatchSize(batchSize) }
    self.definition = definition
    self.group = group
    self.batchSize = batchSize
    self.streamIdentifier = streamIdentifier
    actionSpace = .continuous(
      low: 0, high: Float(definition.episode.maximumInsulinMultiplier))
    candidates = definition.patientTable.patients.indices.filter {
      group == nil || definition.patientTable.patients[$0].group == group
    }
    sampleMinutes = definition.sensor.sampleMinutes
    decisionsPerEpisode = definition.episode.episodeHours * 60 / sampleMinutes
    let first = definition.patientTable.patients[candidates[0]]
    patients = GlucosePatientBatch(
      patients: [GlucosePatient](repeating: first, count: batchSize),
      stepsPerMinute: definition.model.stepsPerMinute,
      eatingRateGramsPerMinute: definition.model.eatingRateGramsPerMinute)
    noise = CGMNoise(sensor: definition.sensor, patientCount: batchSize)
    records = GlucoseEpisodeRecords(patientCount: batchSize)
    buffers = GlucoseStepBuffers(patientCount: batchSize)
    table = OutcomeTable(columnNames: Self.outcomeColumnNames)
    _ = reset(seed: 0)
  }

  /// Decisions per episode.
  public var episodeDecisions: Int { decisionsPerEpisode }

  public func reset(seed: UInt64) -> [Float] {
    let streamBase = stableHash("glucose#\(streamIdentifier)")
    patientGenerator = Xoshiro256(seed: seed, stream: streamBase)
    noiseGenerator = Xoshiro256(seed: seed, stream: streamBase ^ 0x6E6F_6973_6500_0001)
    startEpisodes()
    return observations()
  }

  /// Replaces the patients and meals of the current episode (for a fixed
  /// cohort or for tests). Only allowed before the first decision.
  /// - Parameters:
  ///   - indices: indices into `definition.patientTable.patients`, one per
  ///     environment.
  ///   - meals: per environment, (minute from the episode start, grams).
  /// - Throws: `BatchEnvironmentError` when a count differs from
  ///   `batchSize` or a decision was already taken.
  /// - Precondition: every index is valid.
  public func setPatients(indices: [Int], meals newMeals: [[(minute: Int, grams: Double)]])
    throws(BatchEnvironmentError)
  {
    guard indices.count == batchSize, newMeals.count == batchSize else {
      throw .patientCountMismatch(
        expected: batchSize, received: indices.count == batchSize ? newMeals.count : indices.count)
    }
    guard decision == 0 else { throw .patientsOutsideEpisodeStart(decisionsTaken: decision) }
    install(indices: indices, meals: newMeals)
  }

  /// The true blood glucose of every patient now, mg/dL.
  public var trueBloodGlucose: [Double] { patients.bloodGlucose }

  public func drainEpisodeOutcomes() -> EpisodeOutcomeTally { tally.drain() }

  public func drainOutcomeTable() -> OutcomeTable { table.drain() }

  // MARK: Episode start

  /// Draws new patients and meals for every environment and starts them.
  func startEpisodes() {
    let days = definition.episode.episodeHours / 24
    var indices: [Int] = []
    var newMeals: [[(minute: Int, grams: Double)]] = []
    for _ in 0..<batchSize {
      let draw = Int(patientGenerator.nextUniform() * Double(candidates.count))
      indices.append(candidates[min(draw, candidates.count - 1)])
      newMeals.append(definition.meals.sampleMeals(days: days, using: &patientGenerator))
    }
    install(indices: indices, meals: newMeals)
  }

  private func install(indices: [Int], meals newMeals: [[(minute: Int, grams: Double)]]) {
    let table = definition.patientTable.patients
    patientIndices = indices
    meals = newMeals.map { $0.sorted { $0.minute < $1.minute } }
    nextMeal = [Int](repeating: 0, count: batchSize)
    decision = 0
    patients.setPatients(indices.map { table[$0] })
    noise.start(minutes: decisionsPerEpisode * sampleMinutes, using: &noiseGenerator)
    records.clear()
    let glucose = patients.bloodGlucose
    for p in 0..<batchSize {
      let reading = noise.reading(glucose: glucose[p], patient: p, minute: 0)
      records.startCGM(reading, patient: p)
    }
  }
}
