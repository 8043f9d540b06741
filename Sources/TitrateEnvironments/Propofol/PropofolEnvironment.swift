import Foundation
import TitratePKPD
import TitrateRandom

/// Closed-loop propofol anaesthesia for a batch of virtual patients,
/// defined by a `PropofolDefinition` (Schnider 1998 PK, sigmoid Emax BIS).
///
/// An episode starts with the induction bolus of the definition in the
/// central compartment. Each step is one decision: the action is the
/// infusion rate in ug/kg/min of total body weight, held for
/// `decisionIntervalSeconds`. The PK is stepped exactly on the
/// `simulationStepSeconds` grid, and the true BIS on that grid sets the
/// reward. After the step the monitor reports the true BIS of
/// `delaySeconds` earlier plus Gaussian noise, clipped to [0, 100] and
/// rounded. Episodes end after `episodeMinutes` with `terminated` true
/// and restart in the same step unless `automaticallyResets` is off.
///
/// Reward per decision: `inRangeReward` x (fraction of grid points with
/// BIS in the band) - `outOfRangePenalty` x (fraction outside it) -
/// `burstSuppressionPenalty` x (fraction below `burstSuppressionBIS`) -
/// `absoluteErrorPenalty` x mean |BIS - target| / target (0 when absent).
/// Cost per decision: the fraction of grid points below the band.
///
/// Actuator: a non-finite request delivers 0, a negative one 0 and one
/// above the maximum the maximum; each is counted in the outcome table.
public final class PropofolEnvironment: DosingEnvironment {
  /// The definition the environment was built from.
  public let definition: PropofolDefinition
  public let batchSize: Int
  public let observationSize = PropofolObservation.count
  /// Continuous infusion rate, ug/kg/min, in [0, maximum].
  public let actionSpace: ActionSpace
  /// Extra stream identifier mixed into every seed (for example a site id).
  public let streamIdentifier: UInt64
  /// See `DosingEnvironment.recordsOutcomeTable`; off by default.
  public var recordsOutcomeTable = false
  /// See `DosingEnvironment.automaticallyResets`.
  public var automaticallyResets = true

  /// Decisions taken in the current episode (0 at its start).
  public private(set) var decision = 0
  /// The current patients, one per environment.
  public private(set) var patients: [PropofolPatient] = []
  /// The most recent BIS each monitor reported.
  public internal(set) var measuredBIS: [Double]
  /// The BIS each monitor reported one decision earlier.
  public internal(set) var previousMeasuredBIS: [Double]
  /// The rate delivered at the last decision, ug/kg/min.
  public private(set) var lastRatesMicrogramsPerKilogramPerMinute: [Double]

  let sampler: PropofolPatientSampler
  let decisionsPerEpisode: Int
  let delayDecisions: Int
  var batch: PharmacokineticBatch
  /// True BIS at the last `delayDecisions + 1` decision times, oldest
  /// first, patient-minor (`slot * batchSize + p`).
  var trueBISHistory: [Double] = []
  var patientGenerator = Xoshiro256(seed: 0)
  var noiseGenerator = Xoshiro256(seed: 0)
  var records: PropofolEpisodeRecords
  var tally = EpisodeOutcomeTally()
  var table: OutcomeTable
  var pidState: PropofolPIDState?

  /// Creates a batch of environments and starts their first episode with
  /// seed 0 (call `reset(seed:)` to choose the seed).
  /// - Parameters:
  ///   - definition: a validated definition (as `PropofolDefinition.load`
  ///     returns).
  ///   - batchSize: environments per batch, at least 1.
  ///   - streamIdentifier: mixed into the seeds of both random streams.
  /// - Throws: `PropofolEnvironmentError.invalidBatchSize` below 1.
  public init(definition: PropofolDefinition, batchSize: Int, streamIdentifier: UInt64 = 0)
    throws(PropofolEnvironmentError)
  {
    guard batchSize >= 1 else { throw .invalidBatchSize(batchSize) }
    self.definition = definition
    self.batchSize = batchSize
    self.streamIdentifier = streamIdentifier
    let dosing = definition.dosing
    actionSpace = .continuous(
      low: 0, high: Float(dosing.maximumRateMicrogramsPerKilogramPerMinute))
    decisionsPerEpisode = dosing.decisionsPerEpisode
    delayDecisions = definition.measurement.delayDecisions(
      decisionIntervalSeconds: dosing.decisionIntervalSeconds)
    sampler = PropofolPatientSampler(definition: definition)
    let zeros = [Double](repeating: 0, count: batchSize)
    measuredBIS = zeros
    previousMeasuredBIS = zeros
    lastRatesMicrogramsPerKilogramPerMinute = zeros
    let typical = try! sampler.patient(
      ageYears: definition.model.referenceAgeYears,
      weightKilograms: definition.model.referenceWeightKilograms,
      heightCentimeters: definition.model.referenceHeightCentimeters, isFemale: false)
    batch = try! PharmacokineticBatch(
      parameters: [CompartmentalParameters](
        repeating: typical.pharmacokinetics.compartmentalParameters, count: batchSize),
      stepHours: dosing.simulationStepSeconds / 3600)
    records = PropofolEpisodeRecords(patientCount: batchSize)
    table = OutcomeTable(columnNames: Self.outcomeColumnNames)
    _ = reset(seed: 0)
  }

  public func reset(seed: UInt64) -> [Float] {
    let streamBase = stableHash("propofol#\(streamIdentifier)")
    patientGenerator = Xoshiro256(seed: seed, stream: streamBase)
    noiseGenerator = Xoshiro256(seed: seed, stream: streamBase ^ 0x6E6F_6973_6500_0001)
    startEpisodes()
    return observations()
  }

  /// Replaces the patients of the current episode (for evaluation on a
  /// fixed cohort or for tests). Only allowed before the first decision.
  /// - Throws: `PropofolEnvironmentError` when the count differs from
  ///   `batchSize` or a decision was already simulated.
  public func setPatients(_ newPatients: [PropofolPatient]) throws(PropofolEnvironmentError) {
    guard newPatients.count == batchSize else {
      throw .patientCountMismatch(expected: batchSize, received: newPatients.count)
    }
    guard decision == 0 else { throw .patientsOutsideEpisodeStart(decisionsTaken: decision) }
    install(newPatients)
  }

  /// The true (noise-free, undelayed) BIS of every patient now.
  public var trueBIS: [Double] {
    let effect = batch.stateValues(of: .effectSite)
    return (0..<batchSize).map { patients[$0].bis.bis(effectSiteMilligramsPerLiter: effect[$0]) }
  }

  /// Each patient's effect-site concentration now, mg/L (= ug/mL).
  public var effectSiteConcentrationsMilligramsPerLiter: [Double] {
    batch.stateValues(of: .effectSite)
  }

  public func step(actions: [Float]) -> EnvironmentStep {
    precondition(
      actions.count == batchSize, "expected \(batchSize) actions, got \(actions.count)")
    precondition(
      decision < decisionsPerEpisode,
      "the episodes ended and automatic reset is off; call reset(seed:) first")
    var rewards = [Float](repeating: 0, count: batchSize)
    var costs = [Float](repeating: 0, count: batchSize)
    let rates = (0..<batchSize).map { deliverableRate(action: actions[$0], patient: $0) }
    lastRatesMicrogramsPerKilogramPerMinute = rates
    simulateDecision(ratesMicrogramsPerKilogramPerMinute: rates, rewards: &rewards, costs: &costs)
    decision += 1
    reportBIS()

    return .fixedLengthEpisodes(
      batchSize: batchSize, rewards: rewards, costs: costs,
      episodeEnded: decision == decisionsPerEpisode, automaticallyResets: automaticallyResets,
      observe: observations, recordEnded: recordEndedEpisodes, restart: startEpisodes)
  }

  public func drainEpisodeOutcomes() -> EpisodeOutcomeTally { tally.drain() }

  public func drainOutcomeTable() -> OutcomeTable { table.drain() }

  // MARK: Episode start

  private func startEpisodes() {
    let newPatients = sampler.samplePatients(count: batchSize, using: &patientGenerator)
    install(newPatients)
  }

  private func install(_ newPatients: [PropofolPatient]) {
    patients = newPatients
    decision = 0
    for (index, patient) in newPatients.enumerated() {
      // Sampled and `setPatients` patients passed the Schnider positivity
      // check, so their parameters are valid.
      try! batch.replaceParameters(
        at: index, with: patient.pharmacokinetics.compartmentalParameters)
    }
    batch.reset()
    let bolus = definition.dosing.inductionBolusMilligramsPerKilogram
    batch.addBolus(milligrams: newPatients.map { bolus * $0.weightKilograms }, into: .central)
    records.clear()
    pidState = nil
    lastRatesMicrogramsPerKilogramPerMinute = [Double](repeating: 0, count: batchSize)
    // Before the first decision the monitor shows the awake baseline.
    let awake = newPatients.map(\.bis.baseline)
    trueBISHistory = []
    for _ in 0...delayDecisions { trueBISHistory += awake }
    measuredBIS = awake.map { $0.rounded() }
    previousMeasuredBIS = measuredBIS
  }
}
