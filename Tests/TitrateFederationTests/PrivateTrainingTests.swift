import Foundation
import Testing
import TitrateCheckpoint
import TitrateEnvironments
import TitrateRL
import TitrateRandom

@testable import TitrateFederation

/// Differential privacy and strategy state inside the trainer, and resume
/// with every piece of round state.
@Suite struct PrivateTrainingTests {
  func configuration(sites: Int, rounds: Int = 4) -> FederationConfiguration {
    smallRunConfiguration(sites: sites, rounds: rounds, seed: 21)
  }

  let factory: EnvironmentFactory = { site, index in
    MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.2 * Double(index))
  }

  func centralPrivacy(budget: Double? = nil) -> DifferentialPrivacyConfiguration {
    DifferentialPrivacyConfiguration(
      placement: .central, clipping: .fixed(clipNorm: 0.05), noiseMultiplier: 1.1,
      epsilonBudget: budget)
  }

  /// The round's step is the Gaussian mechanism on the clipped deltas with
  /// the round's noise stream, divided by the participant count.
  @Test func centralNoiseMatchesPrivateAverage() throws {
    var settings = configuration(sites: 2, rounds: 1)
    settings.aggregation = .federatedAveraging(weighting: .uniform)
    settings.privacy = centralPrivacy()
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    let before = trainer.globalParameters
    var deltas: [[Double]] = []
    let record = try trainer.runRound { update in
      deltas.append(update.delta)
      return update
    }
    var generator = Xoshiro256(seed: 21, stream: FederatedTrainer.centralNoiseStream + 1)
    let expected = privateAverage(
      deltas, configuration: GaussianPrivacyConfiguration(clipNorm: 0.05, noiseMultiplier: 1.1),
      participantCount: 2, generator: &generator)
    let expectedParameters = zip(before, expected.average).map { Float(Double($0) + $1) }
    #expect(trainer.globalParameters == expectedParameters)
    #expect(record.clipNorm == 0.05)
  }

  @Test func epsilonIsReportedEveryRound() throws {
    var settings = configuration(sites: 4, rounds: 3)
    settings.aggregation = .federatedAveraging(weighting: .uniform)
    settings.siteSampling = .fixedCount(2)
    settings.privacy = centralPrivacy()
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    for round in 1...3 {
      let record = try trainer.runRound()
      var accountant = try RenyiAccountant()
      try accountant.compose(noiseMultiplier: 1.1, samplingRate: 0.5, rounds: round)
      let expected = try accountant.privacySpent(delta: 1e-5).epsilon
      #expect(record.privacyEpsilon == expected)
      #expect(trainer.privacyEpsilon == expected)
    }
    #expect(trainer.history[2].privacyEpsilon! > trainer.history[0].privacyEpsilon!)
  }

  @Test func localNoiseIsChargedAtRateOne() throws {
    var settings = configuration(sites: 4, rounds: 1)
    settings.siteSampling = .fixedCount(1)
    settings.privacy = DifferentialPrivacyConfiguration(
      placement: .local, clipping: .fixed(clipNorm: 0.05), noiseMultiplier: 2)
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    let record = try trainer.runRound()
    var accountant = try RenyiAccountant()
    try accountant.compose(noiseMultiplier: 2, samplingRate: 1, rounds: 1)
    #expect(record.privacyEpsilon == (try accountant.privacySpent(delta: 1e-5).epsilon))
  }

  /// Under local DP the delta must be private before any transport
  /// carries it: the aggregator of an MPI or network run receives exactly
  /// what the site's transport returns.
  @Test func localNoiseIsAddedBeforeTheTransport() throws {
    var settings = configuration(sites: 3, rounds: 1)
    let clipNorm = 1e-4
    settings.privacy = DifferentialPrivacyConfiguration(
      placement: .local, clipping: .fixed(clipNorm: clipNorm), noiseMultiplier: 1e-3)
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    let recorder = RecordingTransport()
    trainer.transport = recorder
    var received: [String: [Double]] = [:]
    try trainer.runRound { update in
      received[update.siteName] = update.delta
      return update
    }
    #expect(recorder.sentDeltas.count == 3)
    for (site, sent) in recorder.sentDeltas {
      let norm = sent.reduce(0) { $0 + $1 * $1 }.squareRoot()
      // The clipped delta has norm C, and the noise adds about
      // z C sqrt(parameter count), far below C here.
      #expect(norm <= clipNorm * 1.1, "site \(site) sent a delta of norm \(norm)")
      #expect(received[site] == sent, "the aggregator changed site \(site)'s delta")
    }
  }

  @Test func budgetStopsBeforeTheRoundThatExceedsIt() throws {
    var settings = configuration(sites: 2, rounds: 10)
    settings.aggregation = .federatedAveraging(weighting: .uniform)
    var accountant = try RenyiAccountant()
    try accountant.compose(noiseMultiplier: 1.1, samplingRate: 1, rounds: 2)
    let afterTwo = try accountant.privacySpent(delta: 1e-5).epsilon
    try accountant.compose(noiseMultiplier: 1.1, samplingRate: 1, rounds: 1)
    let afterThree = try accountant.privacySpent(delta: 1e-5).epsilon
    settings.privacy = centralPrivacy(budget: (afterTwo + afterThree) / 2)
    let trainer = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    try trainer.runRound()
    try trainer.runRound()
    let parameters = trainer.globalParameters
    #expect {
      try trainer.runRound()
    } throws: { error in
      guard case FederationError.privacyBudgetExhausted(let round, let spent, let next, _) = error
      else { return false }
      return round == 3 && spent == afterTwo && next == afterThree
    }
    #expect(trainer.completedRounds == 2)
    #expect(trainer.globalParameters == parameters)
    #expect(trainer.privacyEpsilon == afterTwo)
  }

  @Test func centralNoiseRejectsUnboundedWeights() {
    for strategy: AggregationStrategy in [
      .federatedAveraging(weighting: .bySampleCount), .coordinateMedian,
      .krum(byzantineCount: 0),
    ] {
      var settings = configuration(sites: 3)
      settings.aggregation = strategy
      settings.privacy = centralPrivacy()
      #expect(settings.problems().contains { $0.contains("central noise is calibrated") })
    }
    var uniform = configuration(sites: 3)
    uniform.aggregation = .adaptive(
      optimizer: .yogi, weighting: .uniform, configuration: AdaptiveServerConfiguration())
    uniform.privacy = centralPrivacy()
    #expect(uniform.problems().isEmpty)
  }

  @Test func privacyRejectsUnprivatisedSideChannels() {
    var settings = configuration(sites: 2)
    settings.aggregation = .federatedAveraging(weighting: .uniform)
    settings.observationNormalization = .federated
    settings.costConstraint = CostConstraint(costLimit: 0.5, multiplierLearningRate: 0.1)
    settings.privacy = DifferentialPrivacyConfiguration(
      placement: .local,
      clipping: .adaptive(AdaptiveClippingConfiguration(expectedParticipantCount: 2)),
      noiseMultiplier: 0.05)
    let problems = settings.problems()
    #expect(problems.contains { $0.contains("federated observation statistics") })
    #expect(problems.contains { $0.contains("cost constraint") })
    #expect(problems.contains { $0.contains("central noise only") })
  }

  /// Runs 4 rounds straight and 2 + checkpoint + resume + 2, and compares
  /// everything that carries over between rounds.
  @Test(arguments: ["trimmed", "fedadam", "private"])
  func resumedRunEqualsUninterruptedRun(kind: String) throws {
    var settings = configuration(sites: 5)
    switch kind {
    case "trimmed":
      settings.aggregation = .trimmedMean(trimFraction: 0.25)
      settings.siteSampling = .poisson(rate: 0.8)
      settings.siteFailures.dropoutProbability = 0.2
      settings.hostileSites = [HostileSite(site: "site_2", attack: .stale)]
    case "fedadam":
      settings.aggregation = .adaptive(
        optimizer: .adam, weighting: .bySampleCount,
        configuration: AdaptiveServerConfiguration(learningRate: 0.05))
      settings.proximalMu = 0.5
    default:
      settings.aggregation = .federatedAveragingWithMomentum(
        weighting: .uniform, configuration: ServerMomentumConfiguration())
      settings.siteSampling = .fixedCount(4)
      settings.privacy = DifferentialPrivacyConfiguration(
        clipping: .adaptive(
          AdaptiveClippingConfiguration(expectedParticipantCount: 4, initialClipNorm: 0.02)),
        noiseMultiplier: 0.1)
      settings.hostileSites = [HostileSite(site: "site_1", attack: .gaussian(norm: 1))]
    }
    let uninterrupted = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    for _ in 0..<4 { try uninterrupted.runRound() }

    let interrupted = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    for _ in 0..<2 { try interrupted.runRound() }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "titrate-resume-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("run.h5")
    let environment = StoredEnvironment(name: "matching", definitionJSON: "{\"name\": \"matching\"}")
    try CheckpointFile.write(
      interrupted.checkpointContents(environment: environment, programVersion: "test"), to: file)
    let resumed = try FederatedTrainer.resume(
      from: try CheckpointFile.read(from: file), makeEnvironment: factory)
    #expect(resumed.configuration == settings)
    for _ in 0..<2 { try resumed.runRound() }

    #expect(resumed.globalParameters == uninterrupted.globalParameters)
    #expect(resumed.strategyState == uninterrupted.strategyState)
    #expect(resumed.privacyAccountant == uninterrupted.privacyAccountant)
    #expect(resumed.adaptiveClipState == uninterrupted.adaptiveClipState)
    #expect(resumed.staleDeltas == uninterrupted.staleDeltas)
    #expect(resumed.history.map(\.usedSites) == uninterrupted.history.map(\.usedSites))
    #expect(resumed.history.map(\.privacyEpsilon) == uninterrupted.history.map(\.privacyEpsilon))
    if kind == "fedadam" { #expect(!uninterrupted.strategyState.secondMoment.isEmpty) }
    if kind == "private" {
      #expect(uninterrupted.adaptiveClipState?.clipNorm != 0.02)
      #expect(uninterrupted.history.allSatisfy { $0.clipNorm != nil })
    }
  }

  @Test func newSettingsSurviveJSONRoundTrip() throws {
    var settings = configuration(sites: 3)
    settings.aggregation = .multiKrum(byzantineCount: 0, selectedCount: 2)
    settings.siteSampling = .poisson(rate: 0.5)
    settings.minimumParticipants = 2
    settings.roundDeadlineSeconds = 30
    settings.siteFailures = SiteFailureSimulation(
      scheduled: [ScheduledSiteFailure(site: "site_1", round: 2, kind: .timeout)],
      dropoutProbability: 0.1)
    settings.privacy = DifferentialPrivacyConfiguration(
      placement: .local, clipping: .fixed(clipNorm: 1), noiseMultiplier: 3, epsilonBudget: 8)
    settings.hostileSites = [HostileSite(site: "site_0", attack: .signFlip(factor: 2))]
    let decoded = try JSONDecoder().decode(
      FederationConfiguration.self, from: JSONEncoder().encode(settings))
    #expect(decoded == settings)
  }
}

/// Trains in this process and keeps the deltas that the sites hand to the
/// transport, as an MPI rank or a network site would send them.
final class RecordingTransport: FederationTransport {
  private(set) var sentDeltas: [String: [Double]] = [:]

  func trainSites(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult] {
    let results = trainer.trainSitesLocally(request)
    for result in results { sentDeltas[result.update.siteName] = result.update.delta }
    return results
  }

  func collectSiteStates(into trainer: FederatedTrainer) throws {}

  func finish() throws {}
}
