import Testing
import TitrateEnvironments

@testable import TitrateFederation

/// Update compression simulated in one process: reproducible runs, and
/// per-site error feedback through the transport.
@Suite struct CompressingTransportTests {
  static func configuration(sites: Int) -> FederationConfiguration {
    var configuration = FederationConfiguration()
    configuration.environment = "matching"
    configuration.sites = (0..<sites).map {
      SiteConfiguration(name: "site_\($0)", population: "p\($0)", patientsPerBatch: 16)
    }
    configuration.rounds = 3
    configuration.threads = 2
    configuration.seed = 11
    configuration.ppo.stepsPerRollout = 8
    configuration.ppo.minibatchSize = 32
    configuration.ppo.updateEpochs = 2
    configuration.ppo.hiddenSizes = [8, 8]
    configuration.ppo.iterations = 3
    configuration.ppo.learningRate = 0.01
    return configuration
  }

  static let factory: EnvironmentFactory = { site, index in
    MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.3 * Double(index))
  }

  static func train(_ compression: UpdateCompression?) throws -> [Float] {
    let trainer = try FederatedTrainer(
      configuration: configuration(sites: 2), makeEnvironment: factory)
    if let compression {
      trainer.transport = CompressingTransport(inner: trainer.transport, compression: compression)
    }
    for _ in 0..<3 { try trainer.runRound() }
    return trainer.globalParameters
  }

  @Test(arguments: [UpdateCompression.int8(blockSize: 64), .topK(fraction: 0.1)])
  func sameSeedGivesSameModel(_ compression: UpdateCompression) throws {
    let first = try Self.train(compression)
    let second = try Self.train(compression)
    #expect(first == second)
    #expect(first != (try Self.train(nil)))
  }

  /// Returns fixed deltas that depend on the site and the round.
  final class FixedDeltaTransport: FederationTransport {
    let parameterCount: Int
    init(parameterCount: Int) { self.parameterCount = parameterCount }

    static func delta(site: Int, round: Int, count: Int) -> [Double] {
      (0..<count).map { Double(($0 * 7 + site * 13 + round * 29) % 23 - 11) / 64 }
    }

    func trainSites(
      _ request: SiteTrainingRequest, trainer: FederatedTrainer
    ) throws -> [SiteTrainingResult] {
      request.siteIndices.map { site in
        SiteTrainingResult(
          update: ModelUpdate(
            siteName: "site_\(site)", round: request.round,
            delta: Self.delta(site: site, round: request.round, count: parameterCount),
            sampleCount: 16),
          record: SiteRoundRecord(
            site: "site_\(site)", accepted: true, rejectionReason: nil, status: .accepted,
            environmentSteps: 16, meanEpisodeReturn: nil, targetAttainment: nil,
            outcomeMeans: [:], episodes: 0, secondsTraining: 0))
      }
    }

    func collectSiteStates(into trainer: FederatedTrainer) throws {}
    func finish() throws {}
  }

  /// Site 0 trains every round and site 1 every other round. For each
  /// site, the deltas that reach the aggregator plus its residual add up
  /// to its inputs (dyadic inputs keep the sums exact to 1e-12), and a
  /// site that does not train keeps its residual.
  @Test func residualsArePerSiteAndConserveSums() throws {
    let trainer = try FederatedTrainer(
      configuration: Self.configuration(sites: 2), makeEnvironment: Self.factory)
    let count = trainer.globalParameters.count
    let transport = CompressingTransport(
      inner: FixedDeltaTransport(parameterCount: count), compression: .topK(fraction: 0.2))
    var inputs = [[Double]](repeating: Array(repeating: 0, count: count), count: 2)
    var received = inputs
    for round in 1...6 {
      let sites = round % 2 == 0 ? [0, 1] : [0]
      let residualBefore = transport.residuals["site_1"]
      let request = SiteTrainingRequest(
        round: round, siteIndices: sites, globalParameters: trainer.globalParameters,
        normalizer: trainer.globalNormalizer, costMultipliers: [0, 0])
      let results = try transport.trainSites(request, trainer: trainer)
      for (site, result) in zip(sites, results) {
        let input = FixedDeltaTransport.delta(site: site, round: round, count: count)
        for index in 0..<count {
          inputs[site][index] += input[index]
          received[site][index] += result.update.delta[index]
        }
      }
      #expect(transport.lastRoundResultBytes.keys.sorted() == sites.map { "site_\($0)" })
      if !sites.contains(1) { #expect(transport.residuals["site_1"] == residualBefore) }
    }
    for site in 0..<2 {
      let residual = try #require(transport.residuals["site_\(site)"]).values
      for index in 0..<count {
        let error = abs(received[site][index] + residual[index] - inputs[site][index])
        #expect(error <= 1e-12, "site \(site) index \(index)")
      }
    }
    // The check above would pass trivially if nothing were held back.
    #expect(transport.residuals["site_0"]!.values.contains { $0 != 0 })
  }
}
