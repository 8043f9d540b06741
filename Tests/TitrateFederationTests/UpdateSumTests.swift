import Testing
import TitrateEnvironments

@testable import TitrateFederation

/// Stands in for an MPI job without MPI: splits the sites round-robin into
/// groups as `SitePlacement` does, sums each group with
/// `sumSitesLocally`, and adds the groups' sums in reverse order, so the
/// additions run in another order than in the one-process round.
final class SplitSummingTransport: UpdateSumTransport {
  let groupCount: Int
  let updateFilter: ((ModelUpdate) -> ModelUpdate)?

  init(groupCount: Int, updateFilter: ((ModelUpdate) -> ModelUpdate)? = nil) {
    self.groupCount = groupCount
    self.updateFilter = updateFilter
  }

  var sumsUpdates: Bool { true }

  func trainAndSumSites(
    _ request: UpdateSumRequest, trainer: FederatedTrainer
  ) throws -> SiteUpdateSum {
    let placement = SitePlacement(rankCount: groupCount)
    var total = SiteUpdateSum(parameterCount: request.training.globalParameters.count)
    for group in (0..<groupCount).reversed() {
      let hosted = placement.sites(request.sampledIndices, onRank: group)
      total.merge(
        trainer.sumSitesLocally(request, hostedSites: hosted, updateFilter: updateFilter))
    }
    return total
  }

  func trainSites(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult] {
    trainer.trainSitesLocally(request)
  }

  func collectSiteStates(into trainer: FederatedTrainer) throws {}

  func finish() throws {}
}

/// The summed round path of `FederatedTrainer` against the one-process
/// round.
///
/// Tolerance: both paths add the same Double terms, in different orders,
/// so their sums differ by at most about 2 (n - 1) 2^-53 of the sum of
/// magnitudes (n sites). That is far below half a Float ulp (2^-24
/// relative), so each Float parameter after one round is the same value or
/// its neighbour: 1 ulp.
@Suite struct UpdateSumTests {
  func configuration(batchSizes: [Int]) -> FederationConfiguration {
    var configuration = FederationConfiguration()
    configuration.environment = "matching"
    configuration.sites = batchSizes.indices.map {
      SiteConfiguration(name: "site_\($0)", population: "p\($0)", patientsPerBatch: batchSizes[$0])
    }
    configuration.rounds = 1
    configuration.seed = 13
    configuration.observationNormalization = .perSite
    configuration.ppo.stepsPerRollout = 4
    configuration.ppo.minibatchSize = 16
    configuration.ppo.updateEpochs = 2
    configuration.ppo.hiddenSizes = [4]
    configuration.ppo.iterations = 1
    configuration.ppo.learningRate = 0.01
    return configuration
  }

  let factory: EnvironmentFactory = { site, index in
    MatchingEnvironment(batchSize: site.patientsPerBatch, bias: 0.2 * Double(index))
  }

  func withinOneUlp(_ first: [Float], _ second: [Float]) -> Bool {
    first.count == second.count
      && zip(first, second).allSatisfy { $0 == $1 || $0.nextUp == $1 || $0.nextDown == $1 }
  }

  /// Runs one round in one process and one through `transport`.
  func runBoth(
    _ configuration: FederationConfiguration, transport: SplitSummingTransport,
    updateFilter: ((ModelUpdate) -> ModelUpdate)? = nil
  ) throws -> (single: FederatedTrainer, summed: FederatedTrainer) {
    let single = try FederatedTrainer(configuration: configuration, makeEnvironment: factory)
    try single.runRound(updateFilter: updateFilter)
    let summed = try FederatedTrainer(configuration: configuration, makeEnvironment: factory)
    summed.transport = transport
    try summed.runRound()
    return (single, summed)
  }

  @Test func partsMergeBySum() {
    var first = SiteUpdateSum(parameterCount: 2)
    first.add([1, -2], weight: 2, clipNorm: nil)
    var second = SiteUpdateSum(parameterCount: 2)
    second.add([4, 0.5], weight: 3, clipNorm: nil)
    // Norm 5 > C = 1 is scaled to [0.6, 0.8], and norm 0.5 stays.
    var clipped = SiteUpdateSum(parameterCount: 2)
    clipped.add([3, 4], weight: 7, clipNorm: 1)
    clipped.add([0.3, 0.4], weight: 7, clipNorm: 1)

    first.merge(second)

    #expect(first.deltaSum == [14, -2.5])
    #expect(first.totalWeight == 5)
    #expect(first.unclippedCount == 0)
    #expect(abs(clipped.deltaSum[0] - 0.9) < 1e-15)
    #expect(abs(clipped.deltaSum[1] - 1.2) < 1e-15)
    #expect(clipped.totalWeight == 2)
    #expect(clipped.unclippedCount == 1)
  }

  /// Uneven batches give uneven sample counts, so a wrong weight would
  /// move the model by far more than 1 ulp.
  @Test func fedAvgBySampleCountMatches() throws {
    let configuration = configuration(batchSizes: [8, 16, 24, 8, 40])
    let (single, summed) = try runBoth(configuration, transport: SplitSummingTransport(groupCount: 3))

    #expect(withinOneUlp(single.globalParameters, summed.globalParameters))
    let initial = try FederatedTrainer(configuration: configuration, makeEnvironment: factory)
    #expect(summed.globalParameters != initial.globalParameters)
    #expect(summed.history[0].sites.map(\.site) == single.history[0].sites.map(\.site))
    #expect(summed.history[0].acceptedSites == 5)
    #expect(summed.strategyState.roundsApplied == single.strategyState.roundsApplied)
  }

  @Test func fedAdamMatches() throws {
    var configuration = configuration(batchSizes: [8, 16, 24, 8])
    configuration.aggregation = .adaptive(
      optimizer: .adam, weighting: .bySampleCount, configuration: AdaptiveServerConfiguration())
    let (single, summed) = try runBoth(configuration, transport: SplitSummingTransport(groupCount: 2))

    #expect(withinOneUlp(single.globalParameters, summed.globalParameters))
  }

  /// The sites clip where they train and the aggregator adds noise from
  /// the same stream, so the noisy model matches too.
  @Test func centralPrivacyMatches() throws {
    var configuration = configuration(batchSizes: [8, 8, 8, 8])
    configuration.aggregation = .federatedAveraging(weighting: .uniform)
    configuration.privacy = DifferentialPrivacyConfiguration(
      placement: .central, clipping: .fixed(clipNorm: 0.05), noiseMultiplier: 1.1)
    let (single, summed) = try runBoth(configuration, transport: SplitSummingTransport(groupCount: 3))

    #expect(withinOneUlp(single.globalParameters, summed.globalParameters))
    #expect(summed.history[0].clipNorm == 0.05)
    #expect(summed.history[0].privacyEpsilon == single.history[0].privacyEpsilon)
  }

  @Test func badUpdateIsRejectedByName() throws {
    let configuration = configuration(batchSizes: [8, 16, 24])
    let poison: (ModelUpdate) -> ModelUpdate = { update in
      guard update.siteName == "site_1" else { return update }
      var poisoned = update
      poisoned.delta[3] = .nan
      return poisoned
    }
    let (single, summed) = try runBoth(
      configuration, transport: SplitSummingTransport(groupCount: 2, updateFilter: poison),
      updateFilter: poison)

    let record = summed.history[0]
    #expect(record.rejectedSites == 1)
    #expect(record.acceptedSites == 2)
    let rejected = record.sites.first { $0.site == "site_1" }
    #expect(rejected?.status == .rejected)
    #expect(
      rejected?.rejectionReason
        == "update has non-finite value nan at parameter 3 (local training diverged)")
    #expect(record.sites.map(\.rejectionReason) == single.history[0].sites.map(\.rejectionReason))
    #expect(record.usedSites == ["site_0", "site_2"])
    #expect(withinOneUlp(single.globalParameters, summed.globalParameters))
  }

  @Test func robustStrategyIsNotSummed() throws {
    var configuration = configuration(batchSizes: [8, 8, 8])
    configuration.aggregation = .coordinateMedian
    let trainer = try FederatedTrainer(configuration: configuration, makeEnvironment: factory)
    trainer.transport = SplitSummingTransport(groupCount: 2)

    #expect(throws: FederationTransportError.self) { try trainer.runRound() }
    #expect(trainer.completedRounds == 0)
    #expect(configuration.updateSumProblem?.contains("robust strategies") == true)
  }
}
