import Foundation
import TitrateEnvironments
import TitrateRandom

/// The record of one cohort's episode: every delivered and requested dose,
/// the rows the non-finite screen rejected, the observations shown to the
/// policy (standard cohorts only) and the outcome table.
struct CohortRecord {
  let specification: CohortSpecification
  let decisionCount: Int
  let decisionIntervalHours: Double
  /// Dose of decision d for patient p at `d * patientCount + p`, mg, read
  /// from observation entry 7 (`previousDoseMilligrams`) after the step:
  /// the dose the environment delivered, not the one requested.
  var deliveredMilligrams: [Double] = []
  /// The policy's request in mg at the same positions; NaN for a rejected
  /// row.
  var requestedMilligrams: [Double] = []
  /// Rows rejected by the non-finite screen, as (decision, patient).
  var rejectedRows: [(decision: Int, patient: Int)] = []
  /// Requests in mg that the unscreened rule returns for the rejected rows.
  var unscreenedRequestsMilligrams: [Double] = []
  /// Raw observations shown to the policy, one row-major batch per
  /// decision; empty except for standard cohorts.
  var observations: [[Float]] = []
  /// One row per patient (see `VancomycinEnvironment.outcomeColumnNames`).
  var table: OutcomeTable

  var patientCount: Int { specification.patientCount }

  /// Returns the delivered doses of one patient in decision order.
  func deliveredDoses(patient: Int) -> [Double] {
    (0..<decisionCount).map { deliveredMilligrams[$0 * patientCount + patient] }
  }
}

/// Runs one episode of every patient of a cohort under `policy`, reading
/// delivered doses back from the observations.
/// - Throws: errors from building the environment or the policy's rule.
func runCohort(
  _ specification: CohortSpecification, definition: EnvironmentDefinition,
  policy: PolicyUnderTest, seed: UInt64, streamIdentifier: UInt64,
  shield: ShieldDefinition? = nil
) throws -> CohortRecord {
  let source = specification.environmentSource(definition)
  let environment = try VancomycinEnvironment(
    definition: source.definition, populationName: source.population,
    batchSize: specification.patientCount, streamIdentifier: streamIdentifier,
    actionMode: policy.actionMode)
  environment.recordsOutcomeTable = true
  environment.automaticallyResets = false
  if let shield { try environment.setShield(shield) }
  let rule = try policy.screenedRule(at: specification.site)
  let rules = source.definition.dosing
  let count = specification.patientCount
  let width = environment.observationSize
  let levelMilligrams = rules.doseLevelStepMilligrams
  func milligrams(_ action: Float) -> Double {
    policy.actionMode == .discreteLevels ? Double(action) * levelMilligrams : Double(action)
  }

  var record = CohortRecord(
    specification: specification, decisionCount: rules.decisionsPerEpisode,
    decisionIntervalHours: rules.decisionIntervalHours,
    table: OutcomeTable(columnNames: []))
  var generator = Xoshiro256(seed: seed, stream: streamIdentifier ^ 0x5AFE_0000_0000_0001)
  var observations = environment.reset(seed: seed)
  for decision in 0..<rules.decisionsPerEpisode {
    var shown = observations
    if case .perturbed(let perturbation) = specification.kind {
      perturb(
        &shown, rowCount: count, width: width, decision: decision, perturbation,
        using: &generator)
    }
    if case .standard = specification.kind { record.observations.append(shown) }

    let (actions, rejected) = rule.screenedActions(observations: shown, rowCount: count)
    if !rejected.isEmpty {
      var rejectedObservations: [Float] = []
      for row in rejected {
        rejectedObservations += shown[(row * width)..<((row + 1) * width)]
        record.rejectedRows.append((decision, row))
      }
      record.unscreenedRequestsMilligrams += rule.rule(rejectedObservations, rejected.count)
        .map(milligrams)
    }
    record.requestedMilligrams += actions.map(milligrams)

    let step = environment.step(actions: actions)
    for patient in 0..<count {
      let delivered = step.observations[
        patient * width + VancomycinObservation.previousDoseMilligrams]
      record.deliveredMilligrams.append(Double(delivered))
    }
    observations = step.observations
  }
  record.table = environment.drainOutcomeTable()
  return record
}

/// Applies `perturbation` to row-major observations in place.
func perturb(
  _ observations: inout [Float], rowCount: Int, width: Int, decision: Int,
  _ perturbation: ObservationPerturbation, using generator: inout Xoshiro256
) {
  typealias Entry = VancomycinObservation
  let levels: [(value: Int, available: Int, hours: Int)] = [
    (Entry.troughMilligramsPerLiter, Entry.troughAvailable, Entry.hoursSinceTrough),
    (Entry.peakMilligramsPerLiter, Entry.peakAvailable, Entry.hoursSincePeak),
    (
      Entry.previousTroughMilligramsPerLiter, Entry.previousTroughAvailable,
      Entry.hoursSincePreviousTrough
    ),
    (
      Entry.previousPeakMilligramsPerLiter, Entry.previousPeakAvailable,
      Entry.hoursSincePreviousPeak
    ),
  ]
  switch perturbation {
  case .noisyLevels(let coefficientOfVariation):
    let sigma = (log(1 + coefficientOfVariation * coefficientOfVariation)).squareRoot()
    for row in 0..<rowCount {
      for level in levels where observations[row * width + level.available] > 0 {
        let factor = exp(sigma * generator.nextStandardNormal() - sigma * sigma / 2)
        observations[row * width + level.value] *= Float(factor)
      }
    }
  case .missingLevels:
    for row in 0..<rowCount {
      for level in levels {
        observations[row * width + level.value] = 0
        observations[row * width + level.available] = 0
        observations[row * width + level.hours] = 0
      }
    }
  case .extremeValues(let magnitude):
    let logMaximum = log10(Double(magnitude))
    for index in observations.indices {
      let choice = generator.nextUniform()
      let sign: Float = generator.nextUniform() < 0.5 ? -1 : 1
      if choice < 1.0 / 3 {
        observations[index] = magnitude
      } else if choice < 2.0 / 3 {
        observations[index] = -magnitude
      } else {
        let exponent = -3 + (logMaximum + 3) * generator.nextUniform()
        observations[index] = sign * Float(pow(10, exponent))
      }
    }
  case .nonFiniteEntries(let fraction):
    let values: [Float] = [.nan, .infinity, -.infinity]
    for row in 0..<rowCount where generator.nextUniform() < fraction {
      let entry = (row + decision * 7) % width
      observations[row * width + entry] = values[(row + decision) % values.count]
    }
  }
}
