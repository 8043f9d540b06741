import Foundation
import Testing

@testable import TitrateEnvironments

/// Returns the shipped definition with the monitor made exact (no noise, no delay),
/// the performance window from t = 0, and a given episode length.
private func exactMonitorDefinition(episodeMinutes: Double = 60) -> PropofolDefinition {
  var definition = shippedPropofolDefinition
  definition.measurement.noiseStandardDeviation = 0
  definition.measurement.delaySeconds = 0
  definition.reward.performanceStartMinutes = 0
  definition.dosing.episodeMinutes = episodeMinutes
  return definition
}

private func typicalMale(_ definition: PropofolDefinition) throws -> PropofolPatient {
  try PropofolPatientSampler(definition: definition).patient(
    ageYears: 53, weightKilograms: 77, heightCentimeters: 177, isFemale: false)
}

private func propofolDecodeError(_ tree: [String: Any]) -> EnvironmentDefinitionError? {
  let data = try! JSONSerialization.data(withJSONObject: tree)
  do {
    _ = try PropofolDefinition.decode(from: data)
    return nil
  } catch {
    return error
  }
}

private func shippedPropofolTree() -> [String: Any] {
  let url = repositoryRoot.appendingPathComponent("Environments/pkpd/propofol.json")
  return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

@Suite struct PropofolEnvironmentTests {
  /// The environment's unit conversions (ug/kg/min to mg/h, the bolus in
  /// mg/kg) reproduce the scipy reference BIS for the typical patient.
  @Test func infusionScheduleMatchesReference() throws {
    let definition = exactMonitorDefinition(episodeMinutes: 40)
    let environment = try PropofolEnvironment(definition: definition, batchSize: 1)
    environment.automaticallyResets = false
    try environment.setPatients([typicalMale(definition)])
    let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/propofol/reference.json")
    let tree = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    let first = (tree["cases"] as! [[String: Any]])[0]
    let times = first["timesMinutes"] as! [Double]
    let bis = first["bis"] as! [Double]
    var worst = 0.0
    for decision in 0..<480 {
      let minutes = Double(decision) * 5 / 60
      let rate: Float = minutes < 10 ? 150 : (minutes < 30 ? 100 : 0)
      _ = environment.step(actions: [rate])
      let now = Double(decision + 1) * 5 / 60
      if let index = times.firstIndex(where: { abs($0 - now) < 1e-9 }) {
        worst = max(worst, abs(environment.trueBIS[0] - bis[index]))
      }
    }
    #expect(worst < 1e-5, "largest BIS difference \(worst)")
  }

  /// Without drug the BIS stays at E0 = 97.4 and the monitor shows 97:
  /// PE = 100 (97 - 50) / 50 = 94 % at every decision, so MDPE = MDAPE =
  /// 94 % and wobble 0; every grid point is above the band.
  @Test func noDrugOutcomesByHand() throws {
    var definition = exactMonitorDefinition(episodeMinutes: 5)
    definition.dosing.inductionBolusMilligramsPerKilogram = 0
    // Band reward only, because PropofolRewardTests checks the error penalty.
    definition.reward.absoluteErrorPenalty = nil
    let environment = try PropofolEnvironment(definition: definition, batchSize: 2)
    environment.automaticallyResets = false
    _ = environment.reset(seed: 3)
    for _ in 0..<60 { _ = environment.step(actions: [0, 0]) }
    let tally = environment.drainEpisodeOutcomes()
    #expect(tally.episodes == 2)
    #expect(abs(tally.mean("mdpePercent")! - 94) < 1e-12)
    #expect(abs(tally.mean("mdapePercent")! - 94) < 1e-12)
    #expect(tally.mean("wobblePercent")! == 0)
    #expect(tally.mean("timeInRange")! == 0)
    #expect(tally.mean("timeAboveRange")! == 1)
    #expect(tally.mean("timeBelowRange")! == 0)
    #expect(tally.mean("timeBelowRangeWholeEpisode")! == 0)
    #expect(tally.mean("inductionMinutes")! == 5)
    // Reward per decision: 0 x 1 - 0.5 x 1 = -0.5; 60 decisions.
    #expect(abs(tally.mean("episodeReturn")! + 30) < 1e-9)
  }

  /// 200 ug/kg/min after the bolus drives the BIS below 30: the deep and
  /// burst-suppression times count it and the cost is positive.
  @Test func overdoseCountsDeepTime() throws {
    let definition = exactMonitorDefinition(episodeMinutes: 20)
    let environment = try PropofolEnvironment(definition: definition, batchSize: 1)
    environment.automaticallyResets = false
    try environment.setPatients([typicalMale(definition)])
    var totalCost: Float = 0
    for _ in 0..<240 { totalCost += environment.step(actions: [200]).costs[0] }
    let tally = environment.drainEpisodeOutcomes()
    #expect(tally.mean("timeBelowBurstSuppression")! > 0.1)
    #expect(tally.mean("timeBelowRange")! > tally.mean("timeBelowBurstSuppression")!)
    #expect(tally.mean("minimumTrueBIS")! < 30)
    // performanceStartMinutes is 0 here, so both windows are the same.
    #expect(
      tally.mean("timeBelowRangeWholeEpisode")! == tally.mean("timeBelowRange")!)
    #expect(abs(Double(totalCost) - tally.mean("episodeCost")!) < 1e-3)
  }

  /// With noise off, the monitor shows the rounded true BIS of exactly
  /// `delaySeconds` (four 5 s decisions) earlier.
  @Test func monitorDelayIsExact() throws {
    var definition = exactMonitorDefinition(episodeMinutes: 10)
    definition.measurement.delaySeconds = 20
    let environment = try PropofolEnvironment(definition: definition, batchSize: 1)
    try environment.setPatients([typicalMale(definition)])
    var history: [Double] = [environment.patients[0].bis.baseline]
    for decision in 1...40 {
      _ = environment.step(actions: [100])
      history.append(environment.trueBIS[0])
      let expected = history[max(decision - 4, 0)].rounded()
      #expect(environment.measuredBIS[0] == expected, "decision \(decision)")
    }
  }

  @Test func actuatorCountsInterventions() throws {
    let definition = exactMonitorDefinition(episodeMinutes: 5)
    let environment = try PropofolEnvironment(definition: definition, batchSize: 3)
    environment.automaticallyResets = false
    environment.recordsOutcomeTable = true
    _ = environment.reset(seed: 1)
    for _ in 0..<60 { _ = environment.step(actions: [500, -3, .nan]) }
    let table = environment.drainOutcomeTable()
    #expect(table[column: "interventionsClampedToMaximum"] == [60, 0, 0])
    #expect(table[column: "interventionsNegative"] == [0, 60, 0])
    #expect(table[column: "interventionsNonFinite"] == [0, 0, 60])
    // 200 ug/kg/min for 5 min = 1 mg/kg, plus the 2 mg/kg bolus.
    let doses = try #require(table[column: "totalDoseMilligramsPerKilogram"])
    #expect(abs(doses[0] - 3) < 1e-9)
    #expect(abs(doses[1] - 2) < 1e-9)
  }

  @Test func sameSeedSameEpisode() throws {
    let first = try PropofolEnvironment(definition: shippedPropofolDefinition, batchSize: 4)
    let second = try PropofolEnvironment(definition: shippedPropofolDefinition, batchSize: 4)
    #expect(first.reset(seed: 9) == second.reset(seed: 9))
    for _ in 0..<30 {
      let actions: [Float] = [50, 100, 150, 200]
      #expect(
        first.step(actions: actions).observations == second.step(actions: actions).observations)
    }
    #expect(first.reset(seed: 10) != second.reset(seed: 9))
  }

  /// Held-out cohort (seed 202; the gains were tuned on seed 101): the PID
  /// controller beats the constant feedforward rate.
  @Test func pidBeatsConstantRate() throws {
    let pid = try runPropofolBaseline(shippedPropofolDefinition, "pid", patients: 32, seed: 202)
    let constant = try runPropofolBaseline(
      shippedPropofolDefinition, "constant_rate", patients: 32, seed: 202)
    #expect(pid.mean("mdapePercent")! < constant.mean("mdapePercent")!)
    #expect(pid.mean("timeInRange")! > constant.mean("timeInRange")!)
    #expect(pid.mean("timeInRange")! > 0.8)
    #expect(pid.mean("timeBelowBurstSuppression")! < 0.01)
  }

  @Test func rejectsBadDefinitionValues() throws {
    var tree = setting(shippedPropofolTree(), ["dosing", "decisionIntervalSeconds"], to: 3)
    tree = setting(tree, ["measurement", "delaySeconds"], to: 13)
    tree = setting(tree, ["model", "clearanceLitersPerMinutes"], to: 1.89)
    let error = try #require(propofolDecodeError(tree))
    let text = "\(error)"
    #expect(text.contains("model.clearanceLitersPerMinutes"))
    let valueError = try #require(
      propofolDecodeError(
        setting(
          setting(shippedPropofolTree(), ["dosing", "decisionIntervalSeconds"], to: 3),
          ["measurement", "delaySeconds"], to: 13)))
    let paths = valueError.issues.map(\.path)
    #expect(paths.contains("dosing.decisionIntervalSeconds"))
    #expect(paths.contains("measurement.delaySeconds"))
    #expect("\(valueError)".contains("must be in [5, 10] s"))
  }

  @Test func rejectsBatchSizeZero() {
    #expect(throws: PropofolEnvironmentError.invalidBatchSize(0)) {
      try PropofolEnvironment(definition: shippedPropofolDefinition, batchSize: 0)
    }
  }
}
