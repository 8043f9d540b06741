import Foundation
import Testing
import TitrateSecureAggregation

@testable import TitrateFederation

/// A transport whose sites run in a second trainer (the "site process")
/// with their own `SecureAggregationSiteHost`, as `titrate site` and the
/// MPI ranks do, and that records every byte the aggregator receives.
final class RecordingSiteRunTransport: SecureAggregationTransport {
  let siteTrainer: FederatedTrainer
  let host: SecureAggregationSiteHost
  /// Each trained site's update before it was checked and masked, by round.
  var clearUpdates: [Int: [Int: ModelUpdate]] = [:]
  /// The training results the aggregator received, by round.
  var receivedResults: [Int: [SiteTrainingResult]] = [:]
  /// The replies the aggregator received, by round, stage and site.
  var receivedReplies: [Int: [SecureAggregationStage: [Int: [UInt8]]]] = [:]

  init(siteTrainer: FederatedTrainer) {
    self.siteTrainer = siteTrainer
    host = SecureAggregationSiteHost(trainer: siteTrainer)
  }

  func trainSites(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult] {
    let results = siteTrainer.trainSitesLocally(request)
    for (index, result) in zip(request.siteIndices, results) {
      clearUpdates[request.round, default: [:]][index] = result.update
    }
    let reports = host.prepareReports(
      results, sites: request.siteIndices, round: request.round,
      parameterCount: request.globalParameters.count)
    receivedResults[request.round] = reports
    return reports
  }

  func exchangeSecureAggregationStage(
    _ stage: SecureAggregationStage, round: Int, messages: [Int: [UInt8]],
    expectedReplies: Set<Int>
  ) throws -> [Int: [UInt8]] {
    var replies: [Int: [UInt8]] = [:]
    for (index, message) in messages {
      if let reply = try host.reply(stage: stage, site: index, round: round, message: message) {
        replies[index] = reply
      }
    }
    receivedReplies[round, default: [:]][stage] = replies
    return replies
  }

  func collectSiteStates(into trainer: FederatedTrainer) throws {}
  func finish() throws {}
}

/// The site halves of secure aggregation run apart from the server: the
/// model equals the in-process secure run bit for bit, and the aggregator
/// receives reports without updates and masked inputs it cannot decode.
@Suite struct SiteRunSecureAggregationTests {
  func configuration(sites: Int, rounds: Int) -> FederationConfiguration {
    var configuration = smallRunConfiguration(sites: sites, rounds: rounds, seed: 41)
    configuration.aggregation = .federatedAveraging(weighting: .bySampleCount)
    configuration.secureAggregation = SecureAggregationConfiguration(
      clipRange: 1, quantizationBits: 24, modulusBits: 32)
    return configuration
  }

  let factory: EnvironmentFactory = { site, index in
    MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.2 * Double(index))
  }

  /// Returns the in-process trainer and the site-run one after `rounds`.
  func trainBoth(
    _ settings: FederationConfiguration
  ) throws -> (FederatedTrainer, FederatedTrainer, RecordingSiteRunTransport) {
    let inProcess = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    let aggregator = try FederatedTrainer(configuration: settings, makeEnvironment: factory)
    let transport = RecordingSiteRunTransport(
      siteTrainer: try FederatedTrainer(configuration: settings, makeEnvironment: factory))
    aggregator.transport = transport
    for _ in 0..<settings.rounds {
      try inProcess.runRound()
      try aggregator.runRound()
    }
    return (inProcess, aggregator, transport)
  }

  /// Sample-count weights, a scheduled dropout and a timeout (which leave
  /// at a drawn stage and after sharing keys), and random dropouts.
  @Test func siteRunModelMatchesInProcess() throws {
    var settings = configuration(sites: 5, rounds: 3)
    settings.siteFailures = SiteFailureSimulation(
      scheduled: [
        ScheduledSiteFailure(site: "site_1", round: 2, kind: .dropout),
        ScheduledSiteFailure(site: "site_3", round: 3, kind: .timeout),
      ],
      dropoutProbability: 0.2)
    let (inProcess, siteRun, _) = try trainBoth(settings)

    #expect(siteRun.globalParameters == inProcess.globalParameters)
    #expect(siteRun.history.count == 3)
    let drops = siteRun.history.flatMap { $0.secureAggregation?.drops ?? [] }
    #expect(drops.count >= 2, "the schedule should make sites leave: \(drops)")
    for (expected, actual) in zip(inProcess.history, siteRun.history) {
      var expectedSummary = try #require(expected.secureAggregation)
      var actualSummary = try #require(actual.secureAggregation)
      expectedSummary.protocolSeconds = 0
      actualSummary.protocolSeconds = 0
      #expect(actualSummary == expectedSummary)
      #expect(actual.sites.map(\.accepted) == expected.sites.map(\.accepted))
      #expect(actual.sites.map(\.rejectionReason) == expected.sites.map(\.rejectionReason))
    }
  }

  /// Under central differential privacy each site adds its share of the
  /// noise in its own process, from the same stream as in one process.
  @Test func siteRunNoiseMatchesInProcess() throws {
    var settings = configuration(sites: 4, rounds: 2)
    settings.aggregation = .federatedAveraging(weighting: .uniform)
    settings.privacy = DifferentialPrivacyConfiguration(
      placement: .central, clipping: .fixed(clipNorm: 0.05), noiseMultiplier: 1.1)
    let (inProcess, siteRun, _) = try trainBoth(settings)

    #expect(siteRun.globalParameters == inProcess.globalParameters)
  }

  @Test func aggregatorReceivesNoUpdate() throws {
    let settings = configuration(sites: 4, rounds: 1)
    let (_, _, transport) = try trainBoth(settings)

    // Reports carry no delta, sample count or statistics.
    let reports = try #require(transport.receivedResults[1])
    #expect(reports.count == 4)
    for report in reports {
      #expect(report.update.delta.isEmpty)
      #expect(report.update.sampleCount == 0)
      #expect(report.update.observationStatistics == nil)
    }

    // A masked input is not the site's quantised update, and is not a
    // quantised vector at all: clear words are below 2^24, while masked
    // words are uniform below 2^32.
    let quantizer = settings.secureAggregation!.quantizer
    let masked = try #require(transport.receivedReplies[1]?[.maskedInput])
    #expect(masked.count == 4)
    for (index, bytes) in masked {
      let message = try MaskedInputMessage(decoding: bytes)
      let clear = try #require(transport.clearUpdates[1]?[index])
      let weight = Double(clear.sampleCount) / Double(transport.siteTrainer.maximumSiteSampleCount)
      let clearWords = quantizer.encodeInput(update: clear.delta, weight: weight)
      #expect(message.words.count == clearWords.count)
      #expect(clearWords.allSatisfy { $0 <= quantizer.maximumLevel })
      let equalWords = zip(message.words, clearWords).filter { $0 == $1 }.count
      #expect(equalWords <= 1, "site \(index): \(equalWords) words sent unmasked")
      let outOfRange = message.words.filter { $0 > quantizer.maximumLevel }.count
      #expect(
        Double(outOfRange) > 0.9 * Double(message.words.count),
        "site \(index): \(outOfRange) of \(message.words.count) words above 2^24 - 1")
    }
  }
}
