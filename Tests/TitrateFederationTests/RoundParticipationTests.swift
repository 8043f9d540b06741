import Foundation
import Testing
import TitrateCheckpoint
import TitrateEnvironments
import TitrateRL

@testable import TitrateFederation

/// Site sampling, minimum participants, simulated failures, FedProx and
/// attacks, run through the trainer on the matching task.
@Suite struct RoundParticipationTests {
  func configuration(sites: Int, rounds: Int = 3) -> FederationConfiguration {
    var configuration = FederationConfiguration()
    configuration.environment = "matching"
    configuration.sites = (0..<sites).map {
      SiteConfiguration(name: "site_\($0)", population: "p\($0)", patientsPerBatch: 8)
    }
    configuration.rounds = rounds
    configuration.localIterations = 1
    configuration.seed = 5
    configuration.ppo.stepsPerRollout = 4
    configuration.ppo.minibatchSize = 16
    configuration.ppo.updateEpochs = 2
    configuration.ppo.hiddenSizes = [4]
    configuration.ppo.iterations = rounds
    configuration.ppo.learningRate = 0.01
    return configuration
  }

  let factory: EnvironmentFactory = { site, index in
    MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.2 * Double(index))
  }

  @Test func fixedCountSamplesExactlyM() {
    for round in 1...50 {
      let indices = SiteSampling.fixedCount(3).sampledIndices(siteCount: 7, seed: 9, round: round)
      #expect(indices.count == 3)
      #expect(Set(indices).count == 3)
      #expect(indices.allSatisfy { (0..<7).contains($0) })
      #expect(indices == indices.sorted())
    }
  }

  /// Over many rounds each site is drawn with frequency m / K; 4000 rounds
  /// give a standard error of about 0.0077 on 3/7, so 0.04 is over 5 sigma.
  @Test func fixedCountIsUniformOverSites() {
    var counts = [Int](repeating: 0, count: 7)
    for round in 1...4000 {
      for index in SiteSampling.fixedCount(3).sampledIndices(siteCount: 7, seed: 2, round: round) {
        counts[index] += 1
      }
    }
    for count in counts { #expect(abs(Double(count) / 4000 - 3.0 / 7) < 0.04) }
  }

  @Test func poissonRateMatchesFrequency() {
    var total = 0
    for round in 1...2000 {
      total += SiteSampling.poisson(rate: 0.25).sampledIndices(siteCount: 8, seed: 3, round: round)
        .count
    }
    // Mean 0.25 * 8 = 2 per round; the standard error over 2000 rounds is 0.027.
    #expect(abs(Double(total) / 2000 - 2) < 0.15)
  }

  @Test func unsampledSitesDoNotTrain() throws {
    var sampled = configuration(sites: 4)
    sampled.siteSampling = .fixedCount(2)
    let trainer = try FederatedTrainer(configuration: sampled, makeEnvironment: factory)
    let record = try trainer.runRound()
    let expected = SiteSampling.fixedCount(2).sampledIndices(siteCount: 4, seed: 5, round: 1)
    #expect(record.sampledSites == 2)
    #expect(record.sites.map(\.site) == expected.map { "site_\($0)" })
    #expect(record.acceptedSites == 2)
  }

  @Test func scheduledDropoutIsRecordedWithReason() throws {
    var failing = configuration(sites: 3)
    failing.siteFailures.scheduled = [
      ScheduledSiteFailure(site: "site_1", round: 1, kind: .dropout),
      ScheduledSiteFailure(site: "site_2", round: 1, kind: .timeout),
    ]
    let trainer = try FederatedTrainer(configuration: failing, makeEnvironment: factory)
    let record = try trainer.runRound()
    let byName = Dictionary(uniqueKeysWithValues: record.sites.map { ($0.site, $0) })
    #expect(byName["site_1"]?.status == .droppedOut)
    #expect(byName["site_1"]?.environmentSteps == 0)
    #expect(byName["site_1"]?.rejectionReason?.contains("dropped out") == true)
    #expect(byName["site_2"]?.status == .timedOut)
    #expect(byName["site_2"]?.rejectionReason?.contains("timed out") == true)
    #expect(record.droppedSites == 2)
    #expect(record.rejectedSites == 0)
    #expect(record.acceptedSites == 1)
    #expect(record.usedSites == ["site_0"])
  }

  /// With sites 1 and 2 gone, the round equals a run whose filter rejects
  /// their updates: dropped updates never reach the average.
  @Test func droppedSitesEqualRejectedSites() throws {
    var failing = configuration(sites: 3, rounds: 1)
    failing.siteFailures.scheduled = [
      ScheduledSiteFailure(site: "site_1", round: 1, kind: .timeout),
      ScheduledSiteFailure(site: "site_2", round: 1, kind: .timeout),
    ]
    let dropped = try FederatedTrainer(configuration: failing, makeEnvironment: factory)
    try dropped.runRound()
    let filtered = try FederatedTrainer(
      configuration: configuration(sites: 3, rounds: 1), makeEnvironment: factory)
    try filtered.runRound { update in
      var bad = update
      if update.siteName != "site_0" { bad.sampleCount = 0 }
      return bad
    }
    #expect(dropped.globalParameters == filtered.globalParameters)
  }

  @Test func tooFewParticipantsSkipsTheRound() throws {
    var strict = configuration(sites: 3)
    strict.minimumParticipants = 3
    strict.siteFailures.scheduled = [ScheduledSiteFailure(site: "site_0", round: 1, kind: .dropout)]
    let trainer = try FederatedTrainer(configuration: strict, makeEnvironment: factory)
    let before = trainer.globalParameters
    let normalizerBefore = trainer.globalNormalizer
    let record = try trainer.runRound()
    #expect(record.skipReason == "2 updates accepted, below the minimum of 3 participants")
    #expect(record.usedSites == nil)
    #expect(trainer.globalParameters == before)
    #expect(trainer.globalNormalizer == normalizerBefore)
    #expect(trainer.serverState.step == 0)
    #expect(trainer.completedRounds == 1)
    let next = try trainer.runRound()
    #expect(next.skipReason == nil)
    #expect(trainer.globalParameters != before)
  }

  @Test func strategyBoundBrokenByDropoutSkipsRound() throws {
    var krum = configuration(sites: 5)
    krum.aggregation = .krum(byzantineCount: 1)
    krum.siteFailures.scheduled = [ScheduledSiteFailure(site: "site_4", round: 1, kind: .dropout)]
    let trainer = try FederatedTrainer(configuration: krum, makeEnvironment: factory)
    let before = trainer.globalParameters
    let record = try trainer.runRound()
    #expect(record.skipReason?.contains("krum needs n > 2f + 2: n = 4, f = 1") == true)
    #expect(trainer.globalParameters == before)
  }

  /// Any local training takes longer than a nanosecond, so every site times
  /// out, no reply arrives and the round is skipped.
  @Test func sitesOverDeadlineTimeOut() throws {
    var hurried = configuration(sites: 2)
    hurried.roundDeadlineSeconds = 1e-9
    let trainer = try FederatedTrainer(configuration: hurried, makeEnvironment: factory)
    let before = trainer.globalParameters
    let record = try trainer.runRound()
    #expect(record.sites.allSatisfy { $0.status == .timedOut })
    #expect(record.sites[0].rejectionReason?.contains("above the round deadline") == true)
    #expect(record.skipReason == "0 updates accepted, below the minimum of 1 participants")
    #expect(trainer.globalParameters == before)
  }

  @Test func randomDropoutsRepeatForTheSameSeed() throws {
    var flaky = configuration(sites: 4, rounds: 6)
    flaky.siteFailures.dropoutProbability = 0.4
    let first = try FederatedTrainer(configuration: flaky, makeEnvironment: factory)
    let second = try FederatedTrainer(configuration: flaky, makeEnvironment: factory)
    for _ in 0..<6 {
      try first.runRound()
      try second.runRound()
    }
    #expect(first.globalParameters == second.globalParameters)
    #expect(first.history.map(\.droppedSites) == second.history.map(\.droppedSites))
    #expect(first.history.contains { ($0.droppedSites ?? 0) > 0 })
  }

  @Test func proximalMuZeroChangesNothing() throws {
    let plain = try FederatedTrainer(
      configuration: configuration(sites: 2), makeEnvironment: factory)
    var zero = configuration(sites: 2)
    zero.proximalMu = 0
    let proximal = try FederatedTrainer(configuration: zero, makeEnvironment: factory)
    for _ in 0..<2 {
      try plain.runRound()
      try proximal.runRound()
    }
    #expect(plain.globalParameters == proximal.globalParameters)
  }

  /// A strong pull keeps each local model near the broadcast one: the
  /// local drift shrinks far below that of plain local training.
  @Test func largeProximalMuKeepsSitesNearGlobal() throws {
    func driftNorm(mu: Double) throws -> Double {
      var settings = configuration(sites: 1, rounds: 1)
      settings.ppo.updateEpochs = 8
      settings.proximalMu = mu
      let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
      var drift = 0.0
      try trainer.runRound { update in
        drift = euclideanNorm(update.delta)
        return update
      }
      return drift
    }
    let plain = try driftNorm(mu: 0)
    let pulled = try driftNorm(mu: 1e4)
    #expect(plain > 0)
    #expect(pulled < 0.25 * plain)
  }

  @Test func signFlipAttackNegatesTheDelta() throws {
    var hostile = configuration(sites: 2, rounds: 1)
    hostile.hostileSites = [HostileSite(site: "site_1", attack: .signFlip(factor: 3))]
    var honestDelta: [Double] = []
    var sentDelta: [Double] = []
    let honest = try FederatedTrainer(
      configuration: configuration(sites: 2, rounds: 1), makeEnvironment: factory)
    try honest.runRound { update in
      if update.siteName == "site_1" { honestDelta = update.delta }
      return update
    }
    let attacked = try FederatedTrainer(configuration: hostile, makeEnvironment: factory)
    let record = try attacked.runRound { update in
      if update.siteName == "site_1" { sentDelta = update.delta }
      return update
    }
    #expect(sentDelta == honestDelta.map { -3 * $0 })
    #expect(record.sites[1].attack == "sign-flip:3.0")
  }

  @Test func gaussianAttackHasTheConfiguredNorm() throws {
    var hostile = configuration(sites: 2, rounds: 1)
    hostile.hostileSites = [HostileSite(site: "site_0", attack: .gaussian(norm: 7))]
    let trainer = try FederatedTrainer(configuration: hostile, makeEnvironment: factory)
    var norm = 0.0
    try trainer.runRound { update in
      if update.siteName == "site_0" { norm = euclideanNorm(update.delta) }
      return update
    }
    #expect(abs(norm - 7) < 1e-9)
  }

  @Test func staleAttackReplaysFirstDelta() throws {
    var hostile = configuration(sites: 2, rounds: 3)
    hostile.hostileSites = [HostileSite(site: "site_1", attack: .stale)]
    let trainer = try FederatedTrainer(configuration: hostile, makeEnvironment: factory)
    var sent: [[Double]] = []
    for _ in 0..<3 {
      try trainer.runRound { update in
        if update.siteName == "site_1" { sent.append(update.delta) }
        return update
      }
    }
    #expect(sent.count == 3)
    #expect(sent[1] == sent[0])
    #expect(sent[2] == sent[0])
  }

  @Test func negatedRewardSiteReportsNegatedReturn() throws {
    var hostile = configuration(sites: 2, rounds: 1)
    hostile.hostileSites = [HostileSite(site: "site_1", attack: .negatedReward)]
    let honest = try FederatedTrainer(
      configuration: configuration(sites: 2, rounds: 1), makeEnvironment: factory)
    let attacked = try FederatedTrainer(configuration: hostile, makeEnvironment: factory)
    let honestRecord = try honest.runRound()
    let attackedRecord = try attacked.runRound()
    // Same seeds and actions in the first rollout, opposite rewards.
    let honestReturn = try #require(honestRecord.sites[1].meanEpisodeReturn)
    let attackedReturn = try #require(attackedRecord.sites[1].meanEpisodeReturn)
    #expect(attackedReturn == -honestReturn)
    #expect(attackedRecord.sites[1].targetAttainment == honestRecord.sites[1].targetAttainment)
  }

  @Test func medianResistsScaledAttack() throws {
    func run(_ aggregation: AggregationStrategy) throws -> Double {
      var settings = configuration(sites: 5, rounds: 1)
      settings.aggregation = aggregation
      settings.hostileSites = [HostileSite(site: "site_0", attack: .scaled(factor: 1e4))]
      let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
      let before = trainer.globalParameters
      try trainer.runRound()
      return euclideanNorm(
        zip(trainer.globalParameters, before).map { Double($0) - Double($1) })
    }
    let averaged = try run(.federatedAveraging(weighting: .bySampleCount))
    let median = try run(.coordinateMedian)
    #expect(median * 100 < averaged)
  }

  @Test func invalidParticipationSettingsAreListed() {
    var bad = configuration(sites: 3)
    bad.siteSampling = .fixedCount(4)
    bad.minimumParticipants = 0
    bad.proximalMu = -1
    bad.hostileSites = [HostileSite(site: "site_9", attack: .scaled(factor: 0))]
    bad.siteFailures.scheduled = [ScheduledSiteFailure(site: "site_0", round: 9, kind: .dropout)]
    let problems = bad.problems()
    #expect(problems.contains { $0.contains("4 sites per round is outside 1...3") })
    #expect(problems.contains { $0.contains("minimumParticipants: 0") })
    #expect(problems.contains { $0.contains("proximalMu: -1.0") })
    #expect(problems.contains { $0.contains("unknown site 'site_9'") })
    #expect(problems.contains { $0.contains("scaled:0.0: the parameter must be positive") })
    #expect(problems.contains { $0.contains("round 9 for site 'site_0' is outside 1...3") })
  }

  @Test func minimumAboveSampledCountIsRejected() {
    var bad = configuration(sites: 4)
    bad.siteSampling = .fixedCount(2)
    bad.minimumParticipants = 3
    #expect(
      bad.problems().contains {
        $0.contains("minimumParticipants: 3 is above the 2 sites sampled per round")
      })
    bad.minimumParticipants = 2
    #expect(bad.problems().isEmpty)
  }

  @Test func repeatedScheduledFailureIsRejected() {
    var settings = configuration(sites: 2)
    settings.siteFailures.scheduled = [
      ScheduledSiteFailure(site: "site_0", round: 2, kind: .dropout),
      ScheduledSiteFailure(site: "site_0", round: 2, kind: .timeout),
    ]
    #expect(
      settings.problems().contains {
        $0.contains("site 'site_0' is scheduled to fail twice in round 2")
      })
    settings.siteFailures.scheduled[1].round = 3
    #expect(settings.problems().isEmpty)
  }

  @Test func trimmedMeanThatCutsNothingIsRejected() {
    var settings = configuration(sites: 4)
    settings.aggregation = .trimmedMean(trimFraction: 0.2)
    #expect(
      settings.problems().contains {
        $0.contains("cuts floor(0.2 x 4) = 0 updates from each end")
          && $0.contains("raise the trim fraction to at least 0.25")
      })
    settings.aggregation = .trimmedMean(trimFraction: 0.25)
    #expect(settings.problems().isEmpty)
    settings.aggregation = .trimmedMean(trimFraction: 0)
    #expect(settings.problems().isEmpty)
    settings.siteSampling = .fixedCount(2)
    settings.aggregation = .trimmedMean(trimFraction: 0.4)
    #expect(settings.problems().contains { $0.contains("train at least 3 sites per round") })
  }

  @Test(arguments: [1, 2])
  func medianOfTwoOrFewerIsRejected(sampled: Int) {
    var settings = configuration(sites: 4)
    settings.aggregation = .coordinateMedian
    #expect(settings.problems().isEmpty)
    settings.siteSampling = .fixedCount(3)
    #expect(settings.problems().isEmpty)
    settings.siteSampling = .fixedCount(sampled)
    let problems = settings.problems()
    #expect(
      problems.contains {
        $0.contains("median with \(sampled) sites expected per round is the plain mean")
      }, "problems: \(problems)")
    #expect(problems.contains { $0.contains("train at least 3 sites per round") })
  }

  @Test func serverOptimizerCannotFollowFedAdam() {
    var bad = configuration(sites: 2)
    bad.aggregation = .adaptive(
      optimizer: .adam, weighting: .bySampleCount, configuration: AdaptiveServerConfiguration())
    bad.serverOptimizer = .sgd(learningRate: 0.5)
    #expect(bad.problems().contains { $0.contains("cannot follow fedadam") })
  }
}
