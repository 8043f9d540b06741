import Foundation
import Testing
import TitrateCheckpoint
import TitrateRandom
import TitrateSecureAggregation

@testable import TitrateFederation

/// Secure aggregation inside the trainer: same model as plain FedAvg within
/// quantisation error, dropouts at protocol stages, aborts, refused
/// strategies, distributed noise and resume.
@Suite struct SecureAggregationTrainingTests {
  func configuration(sites: Int, rounds: Int = 3) -> FederationConfiguration {
    smallRunConfiguration(sites: sites, rounds: rounds, seed: 33)
  }

  let factory: EnvironmentFactory = { site, index in
    MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.2 * Double(index))
  }

  let secure = SecureAggregationConfiguration(clipRange: 1, quantizationBits: 24, modulusBits: 32)

  /// One round of FedAvg with and without masking. Every site reports the
  /// same sample count, so both weightings are a plain mean. The mean of
  /// quantised values is within half a step of the true mean, and the
  /// result is then rounded to Float.
  @Test(arguments: [UpdateWeighting.uniform, .bySampleCount])
  func oneRoundMatchesPlainFedAvg(weighting: UpdateWeighting) throws {
    var plainSettings = configuration(sites: 4, rounds: 1)
    plainSettings.aggregation = .federatedAveraging(weighting: weighting)
    var secureSettings = plainSettings
    secureSettings.secureAggregation = secure
    let plain = try FederatedTrainer(configuration: plainSettings, makeEnvironment: factory)
    let masked = try FederatedTrainer(configuration: secureSettings, makeEnvironment: factory)
    try plain.runRound()
    let record = try masked.runRound()

    #expect(record.secureAggregation?.includedSites == ["site_0", "site_1", "site_2", "site_3"])
    #expect(record.secureAggregation?.abortReason == nil)
    let halfStep = secure.quantizer.step / 2
    for (expected, actual) in zip(plain.globalParameters, masked.globalParameters) {
      let tolerance = halfStep + 2 * Double(expected.ulp)
      #expect(abs(Double(expected) - Double(actual)) <= tolerance)
    }
  }

  /// Three rounds: the half-step error of each round feeds the next
  /// round's training, so the bound is looser than one round's, but still
  /// far below the size of a training step (about 1e-2 here).
  @Test func shortRunMatchesPlainFedAvg() throws {
    var plainSettings = configuration(sites: 4, rounds: 3)
    plainSettings.aggregation = .federatedAveraging(weighting: .uniform)
    var secureSettings = plainSettings
    secureSettings.secureAggregation = secure
    let plain = try FederatedTrainer(configuration: plainSettings, makeEnvironment: factory)
    let masked = try FederatedTrainer(configuration: secureSettings, makeEnvironment: factory)
    for _ in 0..<3 {
      try plain.runRound()
      try masked.runRound()
    }
    let largest = zip(plain.globalParameters, masked.globalParameters)
      .map { abs(Double($0) - Double($1)) }.max()!
    #expect(largest < 1e-4)
  }

  /// Simulated dropouts leave at protocol stages; the record names each
  /// one, and the step is the mean of exactly the included sites' deltas.
  @Test func dropoutsLeaveAtProtocolStages() throws {
    var settings = configuration(sites: 6, rounds: 6)
    settings.aggregation = .federatedAveraging(weighting: .uniform)
    settings.siteFailures.dropoutProbability = 0.3
    settings.secureAggregation = SecureAggregationConfiguration(
      threshold: 2, neighbourCount: 4, quantizationBits: 24, modulusBits: 32)
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    var seenStages: Set<String> = []
    for _ in 0..<6 {
      let before = trainer.globalParameters
      var deltas: [String: [Double]] = [:]
      let record = try trainer.runRound { update in
        deltas[update.siteName] = update.delta
        return update
      }
      let summary = try #require(record.secureAggregation)
      for drop in summary.drops { seenStages.insert(drop.stage) }
      for site in record.sites where site.status == .droppedOut {
        #expect(summary.drops.contains { $0.site == site.site })
        #expect(!summary.includedSites.contains(site.site))
        // The record names the stage the log names.
        let stage = summary.drops.first { $0.site == site.site }?.stage
        if site.rejectionReason?.contains("after advertising keys") == true {
          #expect(stage == "afterAdvertisingKeys", "\(site.site): \(String(describing: stage))")
        }
        if site.rejectionReason?.contains("after sharing keys") == true {
          #expect(stage == "afterSharingKeys", "\(site.site): \(String(describing: stage))")
        }
      }
      guard record.skipReason == nil else { continue }
      let included = summary.includedSites
      #expect(Set(included) == Set(record.sites.filter(\.accepted).map(\.site)))
      for index in before.indices {
        let mean = included.map { deltas[$0]![index] }.reduce(0, +) / Double(included.count)
        let expected = Float(Double(before[index]) + mean)
        let tolerance = secure.quantizer.step / 2 + 2 * Double(expected.ulp)
        #expect(abs(Double(trainer.globalParameters[index]) - Double(expected)) <= tolerance)
      }
    }
    #expect(seenStages.count >= 2, "stages seen: \(seenStages)")
  }

  /// Four sites with t = 3 (complete graph): two time out, so their
  /// masked inputs never arrive and only 2 survivors remain. The round is
  /// skipped and the model kept.
  @Test func belowThresholdRoundIsSkipped() throws {
    var strict = configuration(sites: 4, rounds: 1)
    strict.aggregation = .federatedAveraging(weighting: .uniform)
    strict.secureAggregation = SecureAggregationConfiguration(threshold: 3)
    strict.siteFailures.scheduled = [
      ScheduledSiteFailure(site: "site_2", round: 1, kind: .timeout),
      ScheduledSiteFailure(site: "site_3", round: 1, kind: .timeout),
    ]
    let trainer = try FederatedTrainer(configuration: strict, makeEnvironment: factory)
    let before = trainer.globalParameters
    let record = try trainer.runRound()
    #expect(record.skipReason?.contains("secure aggregation aborted") == true)
    #expect(record.secureAggregation?.abortReason != nil)
    #expect(record.usedSites == nil)
    #expect(trainer.globalParameters == before)
  }

  /// Poisson sampling at rate 0.3 over 10 sites expects 3 sites a round
  /// but sometimes draws fewer; those rounds are skipped, not run.
  @Test func smallPoissonDrawIsSkipped() throws {
    var settings = configuration(sites: 10, rounds: 8)
    settings.aggregation = .federatedAveraging(weighting: .uniform)
    settings.siteSampling = .poisson(rate: 0.3)
    settings.secureAggregation = secure
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    var smallRounds = 0
    for _ in 0..<8 {
      let record = try trainer.runRound()
      guard let sampled = record.sampledSites, sampled < 3, sampled > 0 else { continue }
      smallRounds += 1
      #expect(record.skipReason?.contains("needs at least 3 sampled sites") == true)
      #expect(record.usedSites == nil)
    }
    #expect(smallRounds > 0, "no round drew 1 or 2 sites; change the seed")
  }

  @Test(arguments: [
    AggregationStrategy.coordinateMedian, .trimmedMean(trimFraction: 0.2),
    .krum(byzantineCount: 1), .multiKrum(byzantineCount: 1, selectedCount: 3),
    .bulyan(byzantineCount: 1), .fedPGByzantineFilter(FedPGFilterConfiguration()),
  ])
  func rejectsRobustStrategies(strategy: AggregationStrategy) {
    var settings = configuration(sites: 7)
    settings.aggregation = strategy
    settings.secureAggregation = secure
    let problems = settings.problems()
    #expect(problems.contains { $0.contains("\(strategy.name) inspects individual updates") })
  }

  @Test func rejectsOverflowingModulus() {
    var settings = configuration(sites: 16)
    settings.secureAggregation = SecureAggregationConfiguration(
      quantizationBits: 30, modulusBits: 32)
    #expect(throws: FederationError.self) {
      try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    }
    #expect(settings.problems().contains { $0.contains("Raise --secagg-modulus-bits to 34") })
  }

  /// Under central DP each site adds noise of standard deviation
  /// z C / sqrt(t) from its own stream. The step is the sum of the
  /// clipped, noised deltas over the expected participant count.
  @Test func distributedNoiseMatchesSiteStreams() throws {
    var settings = configuration(sites: 4, rounds: 1)
    settings.aggregation = .federatedAveraging(weighting: .uniform)
    settings.privacy = DifferentialPrivacyConfiguration(
      placement: .central, clipping: .fixed(clipNorm: 0.05), noiseMultiplier: 1.1)
    settings.secureAggregation = secure
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    let before = trainer.globalParameters
    var deltas: [[Double]] = []
    try trainer.runRound { update in
      deltas.append(update.delta)
      return update
    }
    let threshold = secure.effectiveThreshold(participantCount: 4)
    let standardDeviation = 1.1 * 0.05 / Double(threshold).squareRoot()
    var sum = [Double](repeating: 0, count: before.count)
    for (site, delta) in deltas.enumerated() {
      var generator = Xoshiro256(
        seed: 33, stream: FederatedTrainer.distributedNoiseStream(site: site, round: 1))
      let clipped = clipDelta(delta, clipNorm: 0.05).delta
      for index in sum.indices {
        sum[index] += clipped[index] + standardDeviation * generator.nextStandardNormal()
      }
    }
    for index in before.indices {
      let expected = Float(Double(before[index]) + sum[index] / 4)
      let tolerance = secure.quantizer.step / 2 + 2 * Double(expected.ulp)
      #expect(abs(Double(trainer.globalParameters[index]) - Double(expected)) <= tolerance)
    }
    #expect(trainer.history[0].privacyEpsilon != nil)
  }

  /// Runs 4 rounds straight and 2 + checkpoint + resume + 2 with secure
  /// aggregation, dropouts and a stateful server optimiser.
  @Test(arguments: ["fedadam", "private"])
  func resumedRunEqualsUninterruptedRun(kind: String) throws {
    var settings = configuration(sites: 5, rounds: 4)
    settings.siteFailures.dropoutProbability = 0.2
    settings.secureAggregation = SecureAggregationConfiguration(
      threshold: 2, neighbourCount: 2, quantizationBits: 20, modulusBits: 24)
    if kind == "fedadam" {
      settings.aggregation = .adaptive(
        optimizer: .adam, weighting: .bySampleCount,
        configuration: AdaptiveServerConfiguration(learningRate: 0.05))
    } else {
      settings.aggregation = .federatedAveragingWithMomentum(
        weighting: .uniform, configuration: ServerMomentumConfiguration())
      settings.siteSampling = .fixedCount(4)
      settings.privacy = DifferentialPrivacyConfiguration(
        clipping: .fixed(clipNorm: 0.02), noiseMultiplier: 0.5)
    }
    let uninterrupted = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    for _ in 0..<4 { try uninterrupted.runRound() }

    let interrupted = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    for _ in 0..<2 { try interrupted.runRound() }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "titrate-secagg-resume-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("run.h5")
    let environment = StoredEnvironment(
      name: "matching", definitionJSON: "{\"name\": \"matching\"}")
    try CheckpointFile.write(
      interrupted.checkpointContents(environment: environment, programVersion: "test"), to: file)
    let resumed = try FederatedTrainer.resume(
      from: try CheckpointFile.read(from: file), makeEnvironment: factory)
    #expect(resumed.configuration == settings)
    for _ in 0..<2 { try resumed.runRound() }

    #expect(resumed.globalParameters == uninterrupted.globalParameters)
    #expect(resumed.strategyState == uninterrupted.strategyState)
    #expect(resumed.privacyAccountant == uninterrupted.privacyAccountant)
    let summaries = uninterrupted.history.map(\.secureAggregation)
    #expect(summaries.allSatisfy { $0 != nil })
    #expect(resumed.history.map(\.secureAggregation?.drops) == summaries.map(\.?.drops))
    #expect(resumed.history.map(\.usedSites) == uninterrupted.history.map(\.usedSites))
  }
}
