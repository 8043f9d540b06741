import Foundation
import Testing
import TitratePKPD

@testable import TitrateEnvironments

/// Loads the scipy reference trajectories of scripts/reference_linear.py.
func loadLinearReference() -> [String: Any] {
  let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/linear/reference.json")
  let data = try! Data(contentsOf: url)
  return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
}

/// Returns the action index of a (dose level, interval) pair.
func linearAction(_ definition: LinearDefinition, dose: Double, intervalHours: Double) -> Float {
  let dosing = definition.dosing
  let level = dosing.doseLevels.firstIndex(of: dose)!
  let interval = dosing.intervalHoursChoices.firstIndex(of: intervalHours)!
  return Float(level * dosing.intervalHoursChoices.count + interval)
}

/// Runs one episode of fixed (dose, interval) actions with the concentration
/// trace on; returns the environment at the episode end.
func runLinearRegimen(
  _ definition: LinearDefinition, patients: [LinearPatient], plan: [(Double, Double)]
) throws -> LinearEnvironment {
  let environment = try LinearEnvironment(definition: definition, batchSize: patients.count)
  environment.automaticallyResets = false
  environment.recordsConcentrationTrace = true
  try environment.setPatients(patients)
  for (dose, interval) in plan {
    let action = linearAction(definition, dose: dose, intervalHours: interval)
    _ = environment.step(actions: [Float](repeating: action, count: patients.count))
  }
  return environment
}

/// Checks the linear-kind environment against scipy, closed forms and its
/// own determinism.
@Suite struct LinearEnvironmentTests {
  /// Compares the environment's true concentrations at every grid point
  /// with the reference: the matrix exponential is exact, so only the
  /// solver tolerance (rtol 1e-10) and round-off separate them.
  @Test(arguments: ["gentamicin", "example_oral"])
  func matchesScipyReference(drug: String) throws {
    let url = drug == "gentamicin" ? gentamicinDefinitionURL : exampleOralDefinitionURL
    let definition = loadLinearDefinition(url)
    let block = loadLinearReference()[drug] as! [String: Any]
    let cases = block["cases"] as! [[String: Any]]
    let plan = (block["actions"] as! [[Double]]).map { ($0[0], $0[1]) }
    let sampler = LinearPatientSampler(definition: definition, cohort: nil)
    let patients = cases.map { entry in
      let covariates = sampler.covariates(
        ageYears: entry["ageYears"] as? Double ?? 60,
        weightKilograms: entry["weightKilograms"] as! Double,
        isFemale: (entry["female"] as? Int ?? 0) == 1,
        serumCreatinineMilligramsPerDeciliter: entry["serumCreatinineMilligramsPerDeciliter"]
          as? Double ?? 1,
        onHaemodialysis: false)
      var etas = [Double](repeating: 0, count: definition.model.parameters.named.count)
      for (index, eta) in (entry["etas"] as? [Double] ?? []).enumerated() { etas[index] = eta }
      return LinearPatient(
        covariates: covariates,
        parameters: definition.model.individualParameters(covariates: covariates, etas: etas))
    }
    let environment = try runLinearRegimen(definition, patients: patients, plan: plan)

    for (p, entry) in cases.enumerated() {
      #expect(
        abs(
          patients[p].parameters.clearanceLitersPerHour
            - (entry["clearanceLitersPerHour"] as! Double)) < 1e-12)
      let expected = entry["concentrationsMilligramsPerLiter"] as! [Double]
      let trace = environment.concentrationTrace[p]
      #expect(trace.count == expected.count)
      var worst = 0.0
      for (actual, reference) in zip(trace, expected) {
        worst = max(worst, abs(actual - reference) / (1e-6 + abs(reference)))
      }
      // Relative to the level plus 1e-6 mg/L, so tiny levels compare absolutely.
      #expect(worst < 1e-8, "patient \(p): worst scaled error \(worst)")
      let auc = entry["cumulativeAUCMilligramHoursPerLiter"] as! Double
      let aucError = abs(environment.cumulativeAUC[p] - auc) / auc
      #expect(aucError < 1e-10, "relative AUC error \(aucError)")
      let doses = (entry["doseMilligrams"] as! [Double])
      #expect(abs(environment.records.totalDoseMilligrams[p] - doses.reduce(0, +)) < 1e-9)
    }
  }

  /// A one-compartment intravenous bolus follows C(t) = D / V exp(-CL t / V)
  /// within one cycle.
  @Test func oneCompartmentBolusMatchesClosedForm() throws {
    var definition = loadLinearDefinition(exampleOralDefinitionURL)
    definition.model.route = .intravenousBolus
    definition.model.bioavailability = 1
    definition.model.parameters.absorptionRate = nil
    definition.model.parameters.clearance.covariateEffects = []
    definition.dosing.decisionsPerEpisode = 1
    try definition.validate()
    let sampler = LinearPatientSampler(definition: definition, cohort: nil)
    let patient = sampler.typicalPatient(
      sampler.covariates(
        ageYears: 50, weightKilograms: 75, isFemale: false,
        serumCreatinineMilligramsPerDeciliter: 1, onHaemodialysis: false))
    let environment = try runLinearRegimen(definition, patients: [patient], plan: [(200, 12)])

    let clearance = 5.0
    let volume = 0.8 * 75
    #expect(patient.parameters.clearanceLitersPerHour == clearance)
    let trace = environment.concentrationTrace[0]
    // Grid 0.5 h; index 0 is the left limit before the bolus.
    for index in 1..<trace.count {
      let hours = Double(index) * 0.5
      let expected = 200 / volume * Foundation.exp(-clearance / volume * hours)
      #expect(abs(trace[index] - expected) <= 1e-12 * expected + 1e-15, "t = \(hours) h")
    }
    let expectedAUC = 200 / clearance * (1 - Foundation.exp(-clearance / volume * 12))
    #expect(abs(environment.cumulativeAUC[0] - expectedAUC) / expectedAUC < 1e-12)
  }

  /// At steady state the AUC over one dosing interval equals
  /// bioavailability x dose / CL, whatever the absorption.
  @Test func steadyStateIntervalAUCEqualsDoseOverClearance() throws {
    var definition = loadLinearDefinition(exampleOralDefinitionURL)
    definition.dosing.decisionsPerEpisode = 30
    let sampler = LinearPatientSampler(definition: definition, cohort: nil)
    let patient = sampler.typicalPatient(
      sampler.covariates(
        ageYears: 50, weightKilograms: 75, isFemale: false,
        serumCreatinineMilligramsPerDeciliter: 1, onHaemodialysis: false))
    let environment = try LinearEnvironment(definition: definition, batchSize: 1)
    environment.automaticallyResets = false
    try environment.setPatients([patient])
    let action = linearAction(definition, dose: 200, intervalHours: 12)
    var previous = 0.0
    var intervalAUC = 0.0
    for _ in 0..<29 {
      _ = environment.step(actions: [action])
      intervalAUC = environment.cumulativeAUC[0] - previous
      previous = environment.cumulativeAUC[0]
    }
    let expected = 0.8 * 200 / patient.parameters.clearanceLitersPerHour
    #expect(abs(intervalAUC - expected) / expected < 1e-6)
  }

  /// With no drug leaving except by CL, the drug given equals the amount
  /// still in the body plus CL x AUC, at every decision. Checks the
  /// 3-compartment and oral structures, which the scipy fixture lacks.
  @Test(arguments: [false, true])
  func dosesBalanceAmountsPlusElimination(oral: Bool) throws {
    let url = oral ? exampleOralDefinitionURL : gentamicinDefinitionURL
    var definition = loadLinearDefinition(url)
    if !oral {
      let parameters = definition.model.parameters
      definition.model.compartments = 3
      definition.model.parameters.intercompartmentalClearances.append(
        parameters.intercompartmentalClearances[0])
      definition.model.parameters.intercompartmentalClearances[1].typicalValue = 0.4
      definition.model.parameters.peripheralVolumes.append(parameters.peripheralVolumes[0])
      definition.model.parameters.peripheralVolumes[1].typicalValue = 40
    }
    try definition.validate()
    let environment = try LinearEnvironment(definition: definition, batchSize: 4)
    _ = environment.reset(seed: 5)
    let fraction = definition.model.bioavailability
    for decision in 0..<definition.dosing.decisionsPerEpisode - 1 {
      let batch = environment.batch
      var components: [StateComponent] = [.central]
      for index in 0..<(definition.model.compartments - 1) {
        components.append(.peripheral(index))
      }
      if oral { components.append(.depot) }
      let auc = batch.centralAUC()
      for p in 0..<4 {
        let inBody = components.reduce(0) { $0 + batch.amounts(of: $1)[p] }
        let eliminated = environment.patients[p].parameters.clearanceLitersPerHour * auc[p]
        let given = fraction * environment.records.totalDoseMilligrams[p]
        #expect(
          abs(inBody + eliminated - given) <= 1e-9 * given,
          "decision \(decision), patient \(p): \(inBody) + \(eliminated) vs \(given)")
      }
      _ = environment.step(actions: [Float](repeating: Float(decision), count: 4))
    }
  }

  @Test func sameSeedGivesIdenticalEpisodes() throws {
    let definition = loadLinearDefinition(gentamicinDefinitionURL)
    func run(seed: UInt64) throws -> ([Float], [Float]) {
      let environment = try LinearEnvironment(definition: definition, batchSize: 8)
      var observations = environment.reset(seed: seed)
      var rewards: [Float] = []
      for decision in 0..<8 {
        let actions = (0..<8).map { Float(($0 + decision) % 20) }
        let step = environment.step(actions: actions)
        observations += step.observations
        rewards += step.rewards
      }
      return (observations, rewards)
    }
    let first = try run(seed: 42)
    let second = try run(seed: 42)
    let other = try run(seed: 43)
    #expect(first.0 == second.0)
    #expect(first.1 == second.1)
    #expect(first.0 != other.0)
  }

  @Test func outOfRangeActionIsClampedAndCounted() throws {
    let definition = loadLinearDefinition(gentamicinDefinitionURL)
    let environment = try LinearEnvironment(definition: definition, batchSize: 2)
    environment.recordsOutcomeTable = true
    for _ in 0..<definition.dosing.decisionsPerEpisode {
      _ = environment.step(actions: [-3, .nan])
    }
    let table = environment.drainOutcomeTable()
    #expect(table[column: "interventionsInvalidAction"] == [4, 4])
    // Clamped to action 0: 3 mg/kg every 24 h after the 7 mg/kg start.
    #expect(table[column: "cycle2IntervalHours"] == [24, 24])
  }

  /// A finite action beyond Int's range is counted and clamped like any
  /// other out-of-range action, not converted (which traps).
  @Test func hugeActionIsClampedAndCounted() throws {
    let definition = loadLinearDefinition(gentamicinDefinitionURL)
    let environment = try LinearEnvironment(definition: definition, batchSize: 2)
    environment.recordsOutcomeTable = true
    for _ in 0..<definition.dosing.decisionsPerEpisode {
      _ = environment.step(actions: [1e30, -1e30])
    }
    let table = environment.drainOutcomeTable()
    #expect(table[column: "interventionsInvalidAction"] == [4, 4])
    // -1e30 clamps to action 0: 3 mg/kg every 24 h.
    #expect(table[column: "cycle2IntervalHours"]?[1] == 24)
  }

  @Test func observationHasDocumentedLayout() throws {
    let definition = loadLinearDefinition(gentamicinDefinitionURL)
    let environment = try LinearEnvironment(definition: definition, batchSize: 1)
    let observation = environment.reset(seed: 7)
    #expect(environment.observationSize == 3 + 2 + 1 + 6)
    #expect(observation.count == environment.observationSize)
    #expect(observation[0] == 0)
    let weight = environment.patients[0].covariates.weightKilograms
    #expect(abs(Double(observation[6]) - weight / 70) < 1e-6)
    // The 1-h level follows the 7 mg/kg infusion, so it is positive.
    #expect(observation[3] > 0)
  }
}
