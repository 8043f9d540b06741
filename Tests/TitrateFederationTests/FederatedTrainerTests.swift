import Foundation
import Testing
import TitrateCheckpoint
import TitrateEnvironments
import TitrateRL
import TitrateRandom

@testable import TitrateFederation

@Suite struct FederatedTrainerTests {
  func configuration(sites: Int, rounds: Int = 3, threads: Int = 2) -> FederationConfiguration {
    var configuration = FederationConfiguration()
    configuration.environment = "matching"
    configuration.sites = (0..<sites).map {
      SiteConfiguration(name: "site_\($0)", population: "p\($0)", patientsPerBatch: 16)
    }
    configuration.rounds = rounds
    configuration.localIterations = 2
    configuration.threads = threads
    configuration.seed = 11
    configuration.ppo.stepsPerRollout = 8
    configuration.ppo.minibatchSize = 32
    configuration.ppo.updateEpochs = 2
    configuration.ppo.hiddenSizes = [8, 8]
    configuration.ppo.iterations = rounds * 2
    configuration.ppo.learningRate = 0.01
    return configuration
  }

  let factory: EnvironmentFactory = { site, index in
    MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.3 * Double(index))
  }

  @Test func oneSiteOneRoundEqualsCentralisedTraining() throws {
    var federated = configuration(sites: 1, rounds: 1)
    federated.serverOptimizer = .sgd(learningRate: 1)
    let trainer = try FederatedTrainer(configuration: federated, makeEnvironment: factory)
    let initial = trainer.globalParameters
    try trainer.runRound()

    // The same learner, environment and seeds driven directly.
    var streamGenerator = Xoshiro256(seed: 11, stream: FederatedTrainer.siteLearnerStream(0))
    let learner = try PPOLearner(
      configuration: federated.ppo, observationSize: 3, actionSpace: .discrete(count: 3),
      seed: streamGenerator.next())
    learner.setParameterVector(initial)
    let environment = MatchingEnvironment(batchSize: 16)
    learner.resetEnvironment(
      environment, seed: FederatedTrainer.siteEnvironmentSeed(seed: 11, site: 0, round: 1))
    _ = learner.trainIteration(environment: environment)
    _ = learner.trainIteration(environment: environment)

    #expect(trainer.globalParameters == learner.parameterVector())
    #expect(trainer.globalParameters != initial)
  }

  /// FedSGD with one site: the server's SGD step applies minus the
  /// gradient that the same learner, seeds and patients produce directly.
  @Test func gradientUpdateIsOneServerStep() throws {
    var federated = configuration(sites: 1, rounds: 1)
    federated.localIterations = 1
    federated.ppo.iterations = 1
    federated.siteUpdate = .gradient
    federated.serverOptimizer = .sgd(learningRate: 0.05)
    let trainer = try FederatedTrainer(configuration: federated, makeEnvironment: factory)
    let initial = trainer.globalParameters
    try trainer.runRound()

    var streamGenerator = Xoshiro256(seed: 11, stream: FederatedTrainer.siteLearnerStream(0))
    let learner = try PPOLearner(
      configuration: federated.ppo, observationSize: 3, actionSpace: .discrete(count: 3),
      seed: streamGenerator.next())
    learner.setParameterVector(initial)
    let environment = MatchingEnvironment(batchSize: 16)
    learner.resetEnvironment(
      environment, seed: FederatedTrainer.siteEnvironmentSeed(seed: 11, site: 0, round: 1))
    let estimate = learner.estimateGradient(environment: environment)
    // The learner's own parameters do not move.
    #expect(learner.parameterVector() == initial)
    let expected = zip(initial, estimate.gradient).map { Float(Double($0) - 0.05 * Double($1)) }
    #expect(trainer.globalParameters == expected)
    #expect(estimate.gradient.contains { $0 != 0 })
  }

  @Test func gradientUpdatesNeedOneLocalIteration() {
    var federated = configuration(sites: 1)
    federated.siteUpdate = .gradient
    federated.localIterations = 3
    #expect(
      federated.problems().contains {
        $0.hasPrefix("localIterations: 3 with gradient updates")
      })
  }

  /// A configuration stored before `siteUpdate` and `costConstraint`
  /// existed decodes with their defaults.
  @Test func olderConfigurationDecodes() throws {
    var stored =
      try JSONSerialization.jsonObject(
        with: JSONEncoder().encode(configuration(sites: 2))) as! [String: Any]
    stored["siteUpdate"] = nil
    stored["costConstraint"] = nil
    let decoded = try JSONDecoder().decode(
      FederationConfiguration.self, from: JSONSerialization.data(withJSONObject: stored))
    #expect(decoded == configuration(sites: 2))
    #expect(decoded.siteUpdate == .modelDelta)
  }

  /// The update compression is stored as its command-line form, and a
  /// configuration stored before the setting existed records none.
  @Test func updateCompressionRoundTrips() throws {
    var compressed = configuration(sites: 2)
    compressed.updateCompression = .topK(fraction: 0.05)
    let encoded = try JSONEncoder().encode(compressed)
    let tree = try JSONSerialization.jsonObject(with: encoded) as! [String: Any]
    #expect(tree["updateCompression"] as? String == "topk:0.05")
    #expect(try JSONDecoder().decode(FederationConfiguration.self, from: encoded) == compressed)

    var older = tree
    older["updateCompression"] = nil
    let decoded = try JSONDecoder().decode(
      FederationConfiguration.self, from: JSONSerialization.data(withJSONObject: older))
    #expect(decoded.updateCompression == nil)
    #expect(decoded == configuration(sites: 2))
  }

  @Test func sameSeedGivesIdenticalModels() throws {
    let first = try FederatedTrainer(
      configuration: configuration(sites: 3), makeEnvironment: factory)
    let second = try FederatedTrainer(
      configuration: configuration(sites: 3), makeEnvironment: factory)
    for _ in 0..<2 {
      try first.runRound()
      try second.runRound()
    }
    #expect(first.globalParameters == second.globalParameters)
  }

  @Test func threadCountDoesNotChangeResult() throws {
    let serial = try FederatedTrainer(
      configuration: configuration(sites: 3, threads: 1), makeEnvironment: factory)
    let parallel = try FederatedTrainer(
      configuration: configuration(sites: 3, threads: 3), makeEnvironment: factory)
    for _ in 0..<2 {
      try serial.runRound()
      try parallel.runRound()
    }
    #expect(serial.globalParameters == parallel.globalParameters)
  }

  @Test func rejectedUpdateNeverReachesTheAverage() throws {
    // Site 1 sends NaN; the result must equal a run where site 1's update
    // is dropped, which for two sites is site 0's update alone.
    let poisoned = try FederatedTrainer(
      configuration: configuration(sites: 2), makeEnvironment: factory)
    let record = try poisoned.runRound { update in
      guard update.siteName == "site_1" else { return update }
      var bad = update
      bad.delta[5] = .nan
      return bad
    }
    #expect(record.acceptedSites == 1)
    #expect(record.rejectedSites == 1)
    let rejected = record.sites.first { $0.site == "site_1" }
    #expect(rejected?.accepted == false)
    #expect(rejected?.rejectionReason?.contains("non-finite value nan at parameter 5") == true)
    #expect(poisoned.globalParameters.allSatisfy { $0.isFinite })

    let siteZeroOnly = try FederatedTrainer(
      configuration: configuration(sites: 2), makeEnvironment: factory)
    try siteZeroOnly.runRound { update in
      guard update.siteName == "site_1" else { return update }
      var bad = update
      bad.sampleCount = 0
      return bad
    }
    #expect(poisoned.globalParameters == siteZeroOnly.globalParameters)
  }

  @Test func rejectsBadObservationStatistics() throws {
    let trainer = try FederatedTrainer(
      configuration: configuration(sites: 3), makeEnvironment: factory)
    let record = try trainer.runRound { update in
      var bad = update
      switch update.siteName {
      case "site_1": bad.observationStatistics?.variance[0] = -1
      case "site_2": bad.observationStatistics?.count = 1e300
      default: break
      }
      return bad
    }
    let reasons = Dictionary(
      uniqueKeysWithValues: record.sites.map { ($0.site, $0.rejectionReason) })
    #expect(reasons["site_0"] == .some(nil))
    #expect(reasons["site_1"]??.contains("negative variance -1.0") == true)
    #expect(reasons["site_2"]??.contains("count 1e+300, expected the sample count 256") == true)
    #expect(trainer.globalNormalizer.variance.allSatisfy { $0 >= 0 })
    #expect(trainer.globalNormalizer.count == 256)
  }

  @Test func rejectsSampleCountAboveTheSiteCapacity() throws {
    // Each site runs 2 iterations of 8 steps over 16 patients: 256 samples.
    let trainer = try FederatedTrainer(
      configuration: configuration(sites: 2), makeEnvironment: factory)
    let record = try trainer.runRound { update in
      var inflated = update
      if update.siteName == "site_1" { inflated.sampleCount = 257 }
      return inflated
    }
    #expect(record.sites[0].environmentSteps == 256)
    #expect(
      record.sites[1].rejectionReason
        == "update reports sample count 257, above the 256 steps a site can run in one round")
  }

  @Test func roundThatOverflowsFloatIsDiscarded() throws {
    let trainer = try FederatedTrainer(
      configuration: configuration(sites: 2), makeEnvironment: factory)
    let before = trainer.globalParameters
    #expect(throws: FederationError.self) {
      try trainer.runRound { update in
        var huge = update
        huge.delta[0] = 1e39
        return huge
      }
    }
    #expect(trainer.globalParameters == before)
    #expect(trainer.completedRounds == 0)
    #expect(trainer.serverState.step == 0)
  }

  @Test func allRejectedRoundLeavesModelUnchanged() throws {
    let trainer = try FederatedTrainer(
      configuration: configuration(sites: 2), makeEnvironment: factory)
    let before = trainer.globalParameters
    #expect(throws: FederationError.self) {
      try trainer.runRound { update in
        var bad = update
        bad.delta = [1, 2, 3]
        return bad
      }
    }
    #expect(trainer.globalParameters == before)
    #expect(trainer.completedRounds == 0)
  }

  @Test func invalidConfigurationListsEveryProblem() {
    var bad = configuration(sites: 2)
    bad.rounds = 0
    bad.sites[1].name = "site_0"
    bad.threads = 0
    #expect {
      try FederatedTrainer(configuration: bad, makeEnvironment: factory)
    } throws: { error in
      let text = "\(error)"
      return text.contains("rounds: 0") && text.contains("unique") && text.contains("threads: 0")
    }
  }

  /// Constraint: none, one multiplier on the pooled cost, one per site, or
  /// one per site with updates weighted by the multiplier and the
  /// advantage spread.
  @Test(arguments: ["none", "pooled", "per-site", "weighted"])
  func resumedRunEqualsUninterruptedRun(constraint: String) throws {
    var adam = configuration(sites: 2, rounds: 4)
    adam.serverOptimizer = .adam(learningRate: 0.05, beta1: 0.9, beta2: 0.99, epsilon: 1e-3)
    let constrained = constraint != "none"
    if constrained {
      let weighted = constraint == "weighted"
      adam.costConstraint = CostConstraint(
        costLimit: 0.5, multiplierLearningRate: 0.7, proportionalGain: 0.3,
        perSite: constraint != "pooled", weightUpdatesByMultiplier: weighted,
        scaleWeightsByAdvantageSpread: weighted)
    }
    let uninterrupted = try FederatedTrainer(configuration: adam, makeEnvironment: factory)
    for _ in 0..<4 { try uninterrupted.runRound() }

    let interrupted = try FederatedTrainer(configuration: adam, makeEnvironment: factory)
    for _ in 0..<2 { try interrupted.runRound() }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "titrate-resume-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("run.h5")
    let environment = StoredEnvironment(
      name: "matching", definitionJSON: "{\"name\": \"matching\"}")
    try CheckpointFile.write(
      interrupted.checkpointContents(environment: environment, programVersion: "test"), to: file)

    let resumed = try FederatedTrainer.resume(
      from: try CheckpointFile.read(from: file), makeEnvironment: factory)
    #expect(resumed.completedRounds == 2)
    #expect(resumed.history.count == 2)
    for _ in 0..<2 { try resumed.runRound() }
    #expect(resumed.globalParameters == uninterrupted.globalParameters)
    #expect(resumed.serverState == uninterrupted.serverState)
    #expect(resumed.costMultiplier == uninterrupted.costMultiplier)
    #expect(resumed.siteCostMultipliers == uninterrupted.siteCostMultipliers)
    // Timing fields differ between runs; the measured figures do not.
    #expect(resumed.history.map(\.meanEpisodeCost) == uninterrupted.history.map(\.meanEpisodeCost))
    #expect(resumed.history.map(\.costMultiplier) == uninterrupted.history.map(\.costMultiplier))
    if constraint == "pooled" { #expect(uninterrupted.costMultiplier!.value > 0) }
    if constraint == "per-site" || constraint == "weighted" {
      #expect(uninterrupted.costMultiplier == nil)
      #expect(uninterrupted.siteCostMultipliers!.allSatisfy { $0.value > 0 })
    }
  }

  /// The aggregator's multiplier follows the projected dual ascent
  /// recurrence on the pooled cost each round recorded, starting from the
  /// configured value: lambda' = clamp(lambda + rate (cost - limit), 0, max).
  @Test func costMultiplierFollowsThePooledCost() throws {
    var constrained = configuration(sites: 3, rounds: 6)
    constrained.costConstraint = CostConstraint(
      costLimit: 0.3, multiplierLearningRate: 2, initialMultiplier: 0.25, maximumMultiplier: 0.9)
    let trainer = try FederatedTrainer(configuration: constrained, makeEnvironment: factory)
    var expected = 0.25
    for _ in 0..<6 {
      let record = try trainer.runRound()
      #expect(record.costMultiplier == expected)
      let cost = try #require(record.meanEpisodeCost)
      // Pooled cost: site costs weighted by their steps (equal here).
      let siteMean = record.sites.compactMap(\.meanEpisodeCost).reduce(0, +) / 3
      #expect(abs(cost - siteMean) < 1e-12)
      expected = min(max(expected + 2 * (cost - 0.3), 0), 0.9)
      #expect(trainer.costMultiplier?.value == expected)
    }
    // Action 0 costs 1, and the task needs it in context 0 (a third of the
    // steps or more), so the four-step episodes cost more than 0.3 and the
    // multiplier moves.
    #expect(trainer.history.contains { ($0.meanEpisodeCost ?? 0) > 0.3 })
  }

  /// Per site, each multiplier follows the recurrence on its own site's
  /// cost, and sites with different costs end with different multipliers.
  @Test func siteMultipliersFollowTheirOwnCost() throws {
    var constrained = configuration(sites: 3, rounds: 5)
    constrained.costConstraint = CostConstraint(
      costLimit: 1, multiplierLearningRate: 0.5, perSite: true)
    let trainer = try FederatedTrainer(configuration: constrained, makeEnvironment: factory)
    var expected = [0.0, 0.0, 0.0]
    for _ in 0..<5 {
      let record = try trainer.runRound()
      #expect(record.costMultiplier == nil)
      for (index, site) in record.sites.enumerated() {
        #expect(site.costMultiplier == expected[index])
        let cost = try #require(site.meanEpisodeCost)
        expected[index] = min(max(expected[index] + 0.5 * (cost - 1), 0), 100)
      }
      #expect(trainer.siteCostMultipliers!.map(\.value) == expected)
    }
    #expect(Set(expected).count == 3)
  }

  /// With `weightUpdatesByMultiplier`, the second round's step is the mean
  /// of the site deltas weighted by n_k (1 + lambda_k), with the
  /// multipliers the first round left (different per site).
  @Test func multiplierWeightingScalesEachSiteUpdate() throws {
    var constrained = configuration(sites: 3, rounds: 2)
    constrained.costConstraint = CostConstraint(
      costLimit: 1, multiplierLearningRate: 0.5, perSite: true, weightUpdatesByMultiplier: true)
    let trainer = try FederatedTrainer(configuration: constrained, makeEnvironment: factory)
    try trainer.runRound()
    let multipliers = trainer.siteCostMultipliers!.map(\.value)
    #expect(Set(multipliers).count == 3)
    let before = trainer.globalParameters
    // Site k sends delta k + 1 in every coordinate (with its own sample
    // count, which the observation statistics must match).
    let record = try trainer.runRound { update in
      let k = Double(self.siteIndex(update.siteName))
      var replaced = update
      replaced.delta = [Double](repeating: k + 1, count: update.delta.count)
      return replaced
    }
    #expect(record.sites.map(\.costMultiplier) == multipliers)
    #expect(record.sites.map(\.weightFactor) == multipliers.map { 1 + $0 })
    var weightedSum = 0.0
    var totalWeight = 0.0
    for k in 0..<3 {
      let weight = Double(record.sites[k].environmentSteps) * (1 + multipliers[k])
      weightedSum += Double(k + 1) * weight
      totalWeight += weight
    }
    let expected = weightedSum / totalWeight
    // Plain FedAvg of equal sample counts: (1 + 2 + 3) / 3.
    #expect(Set(record.sites.map(\.environmentSteps)).count == 1)
    let plain = 2.0
    #expect(abs(expected - plain) > 0.01)
    for (after, start) in zip(trainer.globalParameters, before) {
      #expect(abs(Double(after - start) - expected) < 1e-5)
    }
  }

  func siteIndex(_ name: String) -> Int { Int(name.split(separator: "_").last!)! }

  /// Under `scaleWeightsByAdvantageSpread` each site sends its own factor,
  /// `1 + lambda_k` times the spread of its advantages, and the step is the
  /// mean weighted by n_k times that factor.
  @Test func advantageScaledWeightsUseTheSiteFactor() throws {
    var constrained = configuration(sites: 3, rounds: 2)
    constrained.costConstraint = CostConstraint(
      costLimit: 1, multiplierLearningRate: 0.5, perSite: true, weightUpdatesByMultiplier: true,
      scaleWeightsByAdvantageSpread: true)
    let trainer = try FederatedTrainer(configuration: constrained, makeEnvironment: factory)
    try trainer.runRound()
    let multipliers = trainer.siteCostMultipliers!.map(\.value)
    let before = trainer.globalParameters
    let sent = FactorLog()
    let record = try trainer.runRound { update in
      let k = self.siteIndex(update.siteName)
      sent.factors[k] = update.weightFactor
      var replaced = update
      replaced.delta = [Double](repeating: Double(k + 1), count: update.delta.count)
      return replaced
    }
    var weightedSum = 0.0
    var totalWeight = 0.0
    for k in 0..<3 {
      let factor = try #require(sent.factors[k])
      #expect(record.sites[k].weightFactor == factor)
      // The spread scales the factor, so it is not 1 + lambda alone.
      #expect(factor > 0)
      #expect(abs(factor - (1 + multipliers[k])) > 1e-9)
      let weight = Double(record.sites[k].environmentSteps) * factor
      weightedSum += Double(k + 1) * weight
      totalWeight += weight
    }
    let expected = weightedSum / totalWeight
    for (after, start) in zip(trainer.globalParameters, before) {
      #expect(abs(Double(after - start) - expected) < 1e-5)
    }
  }

  /// An update without a valid factor never reaches the average.
  @Test func updateWithoutWeightFactorIsRejected() throws {
    var constrained = configuration(sites: 3, rounds: 1)
    constrained.costConstraint = CostConstraint(
      costLimit: 1, perSite: true, weightUpdatesByMultiplier: true,
      scaleWeightsByAdvantageSpread: true)
    let trainer = try FederatedTrainer(configuration: constrained, makeEnvironment: factory)
    let before = trainer.globalParameters
    let factors: [String: Double?] = ["site_0": nil, "site_1": -.infinity, "site_2": 0]
    let error = #expect(throws: (any Error).self) {
      try trainer.runRound { update in
        var stripped = update
        stripped.weightFactor = factors[update.siteName]!
        return stripped
      }
    }
    let text = "\(error.map { "\($0)" } ?? "no error")"
    #expect(text.contains("site_0: update has no weight factor"))
    #expect(text.contains("site_1: update has weight factor -inf, expected a finite value > 0"))
    #expect(text.contains("site_2: update has weight factor 0: every shaped advantage"))
    #expect(trainer.globalParameters == before)

    var unweighted = configuration(sites: 2)
    unweighted.costConstraint = CostConstraint(
      costLimit: 1, perSite: true, scaleWeightsByAdvantageSpread: true)
    #expect(unweighted.problems().contains { $0.contains("set weightUpdatesByMultiplier") })

    // A standard deviation needs two samples: one patient and one step
    // per rollout give one.
    var single = configuration(sites: 2)
    single.costConstraint = constrained.costConstraint
    single.ppo.stepsPerRollout = 1
    single.sites[1].patientsPerBatch = 1
    let problems = single.problems()
    #expect(problems.count == 1)
    #expect(problems.first?.contains("weights site site_1 by the standard deviation") == true)
    #expect(problems.first?.contains("has only 1 sample") == true)
    single.sites[1].patientsPerBatch = 2
    #expect(single.problems().isEmpty)
  }

  /// Weight factors are recorded for rounds whose average used them, and
  /// not for a round skipped below the minimum participant count.
  @Test func skippedRoundRecordsNoWeightFactor() throws {
    var constrained = configuration(sites: 3, rounds: 2)
    constrained.minimumParticipants = 3
    constrained.costConstraint = CostConstraint(
      costLimit: 1, perSite: true, weightUpdatesByMultiplier: true)
    let trainer = try FederatedTrainer(configuration: constrained, makeEnvironment: factory)
    try trainer.runRound()
    #expect(trainer.history[0].skipReason == nil)
    #expect(trainer.history[0].sites.map(\.weightFactor) == [1, 1, 1])

    try trainer.runRound { update in
      var poisoned = update
      if update.siteName == "site_0" { poisoned.delta[0] = .nan }
      return poisoned
    }
    let skipped = trainer.history[1]
    #expect(skipped.skipReason?.contains("below the minimum of 3 participants") == true)
    #expect(skipped.sites.map(\.accepted) == [false, true, true])
    #expect(skipped.sites.allSatisfy { $0.weightFactor == nil })
  }

  @Test func multiplierWeightingNeedsPerSiteFedAvg() {
    var pooled = configuration(sites: 2)
    pooled.costConstraint = CostConstraint(costLimit: 0.5, weightUpdatesByMultiplier: true)
    #expect(pooled.problems().contains { $0.contains("set perSite (--per-site-limit)") })

    var uniform = configuration(sites: 3)
    uniform.costConstraint = CostConstraint(
      costLimit: 0.5, perSite: true, weightUpdatesByMultiplier: true)
    #expect(uniform.problems().isEmpty)
    uniform.aggregation = .federatedAveraging(weighting: .uniform)
    #expect(uniform.problems().contains { $0.contains("use fedavg or remove the flag") })
    #expect(uniform.updateSumProblem?.contains("--weight-by-multiplier") == true)
  }

  /// Under `greedyCostWithoutEdgePatients` the greedy episode resets the
  /// site's environment with edge patients off. The training rollouts that
  /// follow reset it with them on. Without the flag every reset draws them.
  @Test(arguments: [true, false])
  func greedyCostLeavesOutEdgePatients(withoutEdge: Bool) throws {
    var constrained = configuration(sites: 2, rounds: 1)
    constrained.edgePatientFraction = 0.1
    constrained.costConstraint = CostConstraint(
      costLimit: 0.5, perSite: true, onGreedyPolicy: true,
      greedyCostWithoutEdgePatients: withoutEdge)
    let recorders = EdgeSwitchRecorders()
    let trainer = try FederatedTrainer(configuration: constrained) { site, index in
      recorders.make(site: index, wrapping: try self.factory(site, index))
    }
    try trainer.runRound()
    for index in 0..<2 {
      let recorder = try #require(recorders.made[index])
      #expect(recorder.resetsWithEdgePatients.count >= 2)
      #expect(recorder.resetsWithEdgePatients.first == !withoutEdge)
      #expect(recorder.resetsWithEdgePatients.dropFirst().allSatisfy { $0 })
      #expect(recorder.drawsEdgePatients)
    }
  }

  @Test func greedyCostWithoutEdgePatientsNeedsThem() {
    var noGreedy = configuration(sites: 2)
    noGreedy.edgePatientFraction = 0.1
    noGreedy.costConstraint = CostConstraint(costLimit: 0.5, greedyCostWithoutEdgePatients: true)
    #expect(noGreedy.problems().contains { $0.contains("set onGreedyPolicy") })

    var noEdge = configuration(sites: 2)
    noEdge.costConstraint = CostConstraint(
      costLimit: 0.5, onGreedyPolicy: true, greedyCostWithoutEdgePatients: true)
    #expect(noEdge.problems().contains { $0.contains("add them (--edge-patients)") })
    noEdge.edgePatientFraction = 0.1
    #expect(noEdge.problems().isEmpty)
  }

  @Test func invalidCostConstraintIsReported() {
    var bad = configuration(sites: 1)
    bad.costConstraint = CostConstraint(
      costLimit: -1, multiplierLearningRate: 0, initialMultiplier: 5, maximumMultiplier: 2)
    let problems = bad.problems()
    #expect(problems.contains { $0.contains("costLimit is -1.0") })
    #expect(problems.contains { $0.contains("multiplierLearningRate is 0.0") })
    #expect(problems.contains { $0.contains("initialMultiplier is 5.0") })
  }

  @Test func damagedMultiplierStateIsRejected() throws {
    var constrained = configuration(sites: 1, rounds: 2)
    constrained.costConstraint = CostConstraint(costLimit: 0.1)
    let trainer = try FederatedTrainer(configuration: constrained, makeEnvironment: factory)
    try trainer.runRound()
    let environment = StoredEnvironment(name: "matching", definitionJSON: "{}")
    var contents = try trainer.checkpointContents(environment: environment, programVersion: "t")
    contents.set("training/lagrange/multiplier", shape: [], values: [Double.nan])
    #expect {
      try FederatedTrainer.resume(from: contents, makeEnvironment: factory)
    } throws: { "\($0)".contains("stored Lagrange multiplier nan is outside 0...100.0") }
    contents.set("training/lagrange/multiplier", shape: [], values: [0.5])
    contents.set("training/lagrange/previous_cost", shape: [], values: [Double.infinity])
    #expect {
      try FederatedTrainer.resume(from: contents, makeEnvironment: factory)
    } throws: { "\($0)".contains("stored Lagrange previous cost inf is not finite") }
  }

  @Test func damagedTrainingContentIsRejected() throws {
    let trainer = try FederatedTrainer(
      configuration: configuration(sites: 2, rounds: 3), makeEnvironment: factory)
    try trainer.runRound()
    let environment = StoredEnvironment(name: "matching", definitionJSON: "{}")
    let good = try trainer.checkpointContents(environment: environment, programVersion: "test")
    #expect(try TrainedPolicy(contents: good).round == 1)

    var nonFinite = good
    if case .float32(let array) = nonFinite["policy/layer_0/weight"] {
      var values = array.values
      values[3] = .nan
      nonFinite.set("policy/layer_0/weight", shape: array.shape, values: values)
    }
    #expect {
      try TrainedPolicy(contents: nonFinite)
    } throws: {
      "\($0)".contains("'policy/layer_0/weight' has the non-finite value nan at index 3")
    }

    var negativeRound = good
    negativeRound.set("training/round", shape: [], values: [Int64(-5)])
    #expect {
      try TrainedPolicy(contents: negativeRound)
    } throws: { "\($0)".contains("'training/round' is -5, outside 0...3") }

    var aheadOfHistory = good
    aheadOfHistory.set("training/round", shape: [], values: [Int64(2)])
    #expect {
      try TrainedPolicy(contents: aheadOfHistory)
    } throws: { "\($0)".contains("has 1 rounds but 'training/round' is 2") }
  }

  @Test func learnsTheMatchingTask() throws {
    var longer = configuration(sites: 2, rounds: 12)
    longer.ppo.iterations = 24
    let trainer = try FederatedTrainer(configuration: longer, makeEnvironment: factory)
    for _ in 0..<12 { try trainer.runRound() }
    // A uniform random policy scores 4/3 per 4-step episode; the optimum
    // is 4.
    let last = try #require(trainer.history.last?.meanEpisodeReturn)
    #expect(last > 3.0)
  }
}

/// Wraps an environment and records, for each reset, whether edge patients
/// were switched on.
final class EdgeSwitchRecorder: VectorizedEnvironment, EdgePatientDrawing {
  let inner: any VectorizedEnvironment
  var drawsEdgePatients = true
  private(set) var resetsWithEdgePatients: [Bool] = []

  init(_ inner: any VectorizedEnvironment) { self.inner = inner }

  var batchSize: Int { inner.batchSize }
  var observationSize: Int { inner.observationSize }
  var actionSpace: ActionSpace { inner.actionSpace }

  func reset(seed: UInt64) -> [Float] {
    resetsWithEdgePatients.append(drawsEdgePatients)
    return inner.reset(seed: seed)
  }

  func step(actions: [Float]) -> EnvironmentStep { inner.step(actions: actions) }

  func drainEpisodeOutcomes() -> EpisodeOutcomeTally { inner.drainEpisodeOutcomes() }
}

/// The recorders a trainer's factory made, by site index. Sites are built
/// one by one, before any training thread starts.
final class EdgeSwitchRecorders: @unchecked Sendable {
  private(set) var made: [Int: EdgeSwitchRecorder] = [:]

  func make(site index: Int, wrapping inner: any VectorizedEnvironment) -> EdgeSwitchRecorder {
    let recorder = EdgeSwitchRecorder(inner)
    made[index] = recorder
    return recorder
  }
}

/// Factors the sites sent, by site index, as an update filter saw them. A
/// site that sent none has no entry.
final class FactorLog {
  var factors: [Int: Double] = [:]
}
