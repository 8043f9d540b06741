import Dispatch
import Foundation
import TitrateEnvironments
import TitrateLinearAlgebra
import TitratePolicy
import TitrateRL
import TitrateRandom

/// Builds the environment a site trains on from its configuration.
public typealias EnvironmentFactory =
  @Sendable (_ site: SiteConfiguration, _ siteIndex: Int) throws -> any VectorizedEnvironment

/// Errors that stop a federated run.
public enum FederationError: Error, CustomStringConvertible {
  /// The configuration has the listed problems.
  case invalidConfiguration([String])
  /// A site's environment differs in observation or action layout.
  case environmentMismatch(site: String, detail: String)
  /// No update of the round passed validation; the model is unchanged.
  case allUpdatesRejected(round: Int, reasons: [String])
  /// The round's server step would make a parameter infinite in Float; the
  /// round was discarded.
  case nonFiniteGlobalModel(round: Int, parameterIndex: Int)
  /// Running the round would spend more than the epsilon budget, so it was
  /// not run; the model is that of the previous round.
  case privacyBudgetExhausted(round: Int, spentEpsilon: Double, nextEpsilon: Double, budget: Double)

  public var description: String {
    switch self {
    case .invalidConfiguration(let problems):
      return "invalid federation configuration:\n  " + problems.joined(separator: "\n  ")
    case .environmentMismatch(let site, let detail):
      return "site \(site): \(detail); every site must use the same observation and action layout"
    case .nonFiniteGlobalModel(let round, let parameterIndex):
      return "round \(round): the averaged update makes global parameter \(parameterIndex) "
        + "non-finite in Float, so the round was discarded and the global model is unchanged; "
        + "lower the server learning rate or the local learning rate, or, when a site sends "
        + "huge updates (a simulated hostile site among them), choose a robust --aggregation"
    case .privacyBudgetExhausted(let round, let spent, let next, let budget):
      return "round \(round) was not run: it would raise the privacy loss from epsilon "
        + "\(formatEpsilon(spent)) to \(formatEpsilon(next)), above the budget \(formatEpsilon(budget)); "
        + "the model after round \(round - 1) is final. To train longer, start a new run with a "
        + "larger budget or noise multiplier (a resumed run keeps the stored ones)"
    case .allUpdatesRejected(let round, let reasons):
      return "round \(round): every site update was rejected, so the global model is unchanged:\n  "
        + reasons.joined(separator: "\n  ")
    }
  }
}

private func formatEpsilon(_ value: Double) -> String {
  String(format: "%.4g", value)
}

/// A simulated hospital: its environment and its local learner, whose
/// optimiser state and observation normaliser stay at the site.
final class FederatedSite: @unchecked Sendable {
  let configuration: SiteConfiguration
  let index: Int
  let environment: any VectorizedEnvironment
  let learner: PPOLearner

  init(
    configuration: SiteConfiguration, index: Int, environment: any VectorizedEnvironment,
    learner: PPOLearner
  ) {
    self.configuration = configuration
    self.index = index
    self.environment = environment
    self.learner = learner
  }
}

/// The federated loop, in one process. Each round the aggregator samples
/// sites and broadcasts the global policy. The sampled sites train locally
/// (concurrently, one BLAS thread each) and return their model deltas with
/// sample counts. The aggregator then validates the updates, combines the
/// accepted ones with the configured strategy (and differential privacy),
/// and applies the server optimiser.
///
/// Results are the same for any `threads` value: each site draws from its
/// own random streams and updates are combined in site order. Sampling,
/// simulated failures, attacks and noise use streams derived from the seed
/// and the round, so a resumed run repeats them. Only a round deadline
/// makes results depend on timing.
public final class FederatedTrainer {
  /// The validated run configuration.
  public let configuration: FederationConfiguration
  /// The global actor-critic parameters in `ActorCritic` flat order.
  public internal(set) var globalParameters: [Float]
  /// Server optimiser state.
  public internal(set) var serverState: ServerOptimizerState
  /// Observation statistics broadcast with the model under federated
  /// normalisation (count 0 before the first round).
  public internal(set) var globalNormalizer: RunningNormalizer.State
  /// Rounds applied so far.
  public internal(set) var completedRounds = 0
  /// The global Lagrange multiplier on the safety cost, broadcast with the
  /// model; nil without a cost constraint or with a per-site one.
  public internal(set) var costMultiplier: LagrangeMultiplier?
  /// One multiplier per site, in site order, under a per-site cost
  /// constraint; nil otherwise.
  public internal(set) var siteCostMultipliers: [LagrangeMultiplier]?
  /// One record per completed round.
  public internal(set) var history: [RoundRecord] = []
  /// Server state of the aggregation strategy (FedAvgM and FedOpt moments).
  public internal(set) var strategyState = StrategyState()
  /// Renyi-DP spent so far; nil without differential privacy.
  public internal(set) var privacyAccountant: RenyiAccountant?
  /// The adaptive clip norm for the next round; nil unless adaptive
  /// clipping is configured.
  public internal(set) var adaptiveClipState: AdaptiveClippingState?
  /// The delta each `stale` attacker replays, by site name, captured the
  /// first time it took part.
  public internal(set) var staleDeltas: [String: [Double]] = [:]
  /// The channel to the sites of each round, `InProcessTransport` by
  /// default.
  public var transport: any FederationTransport = InProcessTransport()
  let sites: [FederatedSite]
  /// Features per observation, the same at every site.
  public let observationSize: Int
  /// The action space, the same at every site.
  public let actionSpace: ActionSpace
  /// Outcomes whose per-episode mean is reported as target attainment, in
  /// order of preference: vancomycin's day 3 in range, then the linear
  /// kind's fraction of dosing cycles with an exposure score of 1.
  public static let attainmentOutcomes = ["day3InTarget", "targetAttainment"]

  /// Returns the mean of the first attainment outcome for which `mean`
  /// returns a value.
  static func targetAttainment(_ mean: (String) -> Double?) -> Double? {
    attainmentOutcomes.lazy.compactMap(mean).first
  }

  /// Outcomes kept in round records (and so in checkpoints); the others
  /// an environment tallies, such as covariate sums, are dropped.
  public static let reportedOutcomes: Set<String> = [
    "day1InTarget", "day2InTarget", "day3InTarget", "allDaysInTarget", "anyTroughAboveLimit",
    "troughsAboveLimit", "episodeCost", "totalDoseMilligrams",
    // Warfarin and propofol.
    "ttrTrueDaily", "timeAboveBleedingThresholdTrueDaily", "timeInRange", "timeBelowRange",
    // Linear kind (per dosing cycle).
    "targetAttainment", "toxicTrough",
  ]

  /// Random stream identifiers, so that streams never overlap.
  static let globalInitialisationStream: UInt64 = 0xF00D
  static func siteLearnerStream(_ index: Int) -> UInt64 { 0x5173_0000 + UInt64(index) }
  /// Mixed into a round's environment seed for the greedy-policy cost
  /// episode, so that episode draws other patients than the training
  /// rollouts.
  static let greedyEvaluationStream: UInt64 = 0x6EED_C057_0000_0001

  static func siteEnvironmentSeed(seed: UInt64, site: Int, round: Int) -> UInt64 {
    var generator = Xoshiro256(seed: seed, stream: 0xE417_0000 + UInt64(site) << 20 + UInt64(round))
    return generator.next()
  }

  /// Builds every site's environment and learner and the initial global
  /// model (orthogonal initialisation from the run seed).
  /// - Throws: `FederationError.invalidConfiguration` listing every problem,
  ///   `.environmentMismatch` when sites disagree on observation or action
  ///   layout, or the factory's error.
  public init(configuration: FederationConfiguration, makeEnvironment: EnvironmentFactory) throws {
    let problems = configuration.problems()
    guard problems.isEmpty else { throw FederationError.invalidConfiguration(problems) }
    self.configuration = configuration

    var sites: [FederatedSite] = []
    for (index, siteConfiguration) in configuration.sites.enumerated() {
      var environment = try makeEnvironment(siteConfiguration, index)
      let attack = configuration.hostileSites.first { $0.site == siteConfiguration.name }?.attack
      if attack == .negatedReward { environment = RewardNegatingEnvironment(environment) }
      var streamGenerator = Xoshiro256(
        seed: configuration.seed, stream: Self.siteLearnerStream(index))
      let learner = try PPOLearner(
        configuration: configuration.ppo, observationSize: environment.observationSize,
        actionSpace: environment.actionSpace, seed: streamGenerator.next())
      sites.append(
        FederatedSite(
          configuration: siteConfiguration, index: index, environment: environment,
          learner: learner))
    }
    let first = sites[0].environment
    for site in sites.dropFirst() {
      if site.environment.observationSize != first.observationSize {
        throw FederationError.environmentMismatch(
          site: site.configuration.name,
          detail:
            "observation size \(site.environment.observationSize) differs from \(first.observationSize)"
        )
      }
      if site.environment.actionSpace != first.actionSpace {
        throw FederationError.environmentMismatch(
          site: site.configuration.name,
          detail: "action space \(site.environment.actionSpace) differs from \(first.actionSpace)")
      }
    }
    self.sites = sites
    observationSize = first.observationSize
    actionSpace = first.actionSpace

    var initialisation = Xoshiro256(
      seed: configuration.seed, stream: Self.globalInitialisationStream)
    let initialLearner = try PPOLearner(
      configuration: configuration.ppo, observationSize: observationSize,
      actionSpace: actionSpace, seed: initialisation.next())
    globalParameters = initialLearner.parameterVector()
    serverState = ServerOptimizerState(parameterCount: globalParameters.count)
    globalNormalizer = initialLearner.normalizer.state
    if let constraint = configuration.costConstraint {
      if constraint.perSite {
        siteCostMultipliers = Array(
          repeating: LagrangeMultiplier(constraint: constraint), count: sites.count)
      } else {
        costMultiplier = LagrangeMultiplier(constraint: constraint)
      }
    }
    if let privacy = configuration.privacy {
      privacyAccountant = try RenyiAccountant()
      if case .adaptive(let adaptive) = privacy.clipping {
        adaptiveClipState = AdaptiveClippingState(configuration: adaptive)
      }
    }
  }

  /// The multiplier each site shapes its rewards with this round, in site
  /// order (nil without a constraint).
  var multipliersForRound: [Double?] {
    if let siteCostMultipliers { return siteCostMultipliers.map { $0.value } }
    return Array(repeating: costMultiplier?.value, count: sites.count)
  }

  /// Returns the observation statistics the global policy uses at `site`:
  /// the broadcast statistics under federated normalisation, the site's own
  /// otherwise.
  public func normalizerState(site: String) -> RunningNormalizer.State? {
    switch configuration.observationNormalization {
    case .federated: return globalNormalizer
    case .perSite: return sites.first { $0.configuration.name == site }?.learner.normalizer.state
    }
  }

  /// Site names in configuration order.
  public var siteNames: [String] { sites.map(\.configuration.name) }

  typealias SiteResult = SiteTrainingResult

  /// Trains the sites at `indices` on the broadcast model through
  /// `transport` and returns their results in the order of `indices`.
  func trainSites(
    indices: [Int], round: Int, broadcast: [Float], broadcastNormalizer: RunningNormalizer.State,
    multipliers: [Float]
  ) throws -> [SiteResult] {
    let request = SiteTrainingRequest(
      round: round, siteIndices: indices, globalParameters: broadcast,
      normalizer: broadcastNormalizer, costMultipliers: multipliers)
    return try transport.trainSites(request, trainer: self)
  }

  /// Trains the requested sites in this process, `threads` sites at a
  /// time, and returns their results in the order of `siteIndices`.
  func trainSitesLocally(_ request: SiteTrainingRequest) -> [SiteResult] {
    let round = request.round
    let broadcast = request.globalParameters
    let broadcastNormalizer = request.normalizer
    let multipliers = request.costMultipliers
    let box = ResultBox(count: request.siteIndices.count)
    let sites = request.siteIndices.map { self.sites[$0] }
    let configuration = self.configuration
    // One BLAS thread per site in every case, so sgemm's blocking (and so
    // the result) does not depend on how many sites run at once.
    BLASThreads.set(1)
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = max(1, min(configuration.threads, sites.count))
    for (slot, site) in sites.enumerated() {
      queue.addOperation {
        let result = Self.trainSite(
          site, round: round, broadcast: broadcast, broadcastNormalizer: broadcastNormalizer,
          broadcastMultiplier: multipliers[site.index], configuration: configuration)
        box.store(result, at: slot)
      }
    }
    queue.waitUntilAllOperationsAreFinished()
    return box.results()
  }

  static func trainSite(
    _ site: FederatedSite, round: Int, broadcast: [Float],
    broadcastNormalizer: RunningNormalizer.State, broadcastMultiplier: Float,
    configuration: FederationConfiguration
  ) -> SiteResult {
    let started = Date()
    // NOTE: the site's Adam moments carry over from its previous round
    // while its weights are replaced by the global model, so the first
    // local steps use moments gathered at another point. This is the usual
    // FedAvg-with-local-Adam practice, and it keeps the state local.
    site.learner.setParameterVector(broadcast)
    let federatedNormalization = configuration.observationNormalization == .federated
    if federatedNormalization { site.learner.restoreNormalizer(broadcastNormalizer) }
    site.learner.costMultiplier = broadcastMultiplier
    site.learner.proximalTerm =
      configuration.proximalMu > 0
      ? ProximalTerm(anchor: broadcast, mu: Float(configuration.proximalMu)) : nil
    let environmentSeed = siteEnvironmentSeed(
      seed: configuration.seed, site: site.index, round: round)
    // The deployed policy's cost, on patients of their own stream, before
    // local training changes the policy. The rollouts below are the same
    // with or without it.
    var greedyCost: Double?
    if let constraint = configuration.costConstraint, constraint.onGreedyPolicy {
      let edgeSwitch =
        constraint.greedyCostWithoutEdgePatients
        ? site.environment as? any EdgePatientDrawing : nil
      edgeSwitch?.drawsEdgePatients = false
      greedyCost = site.learner.deterministicEpisodeCost(
        site.environment, seed: environmentSeed ^ Self.greedyEvaluationStream)
      edgeSwitch?.drawsEdgePatients = true
    }
    site.learner.resetEnvironment(site.environment, seed: environmentSeed)

    var steps = 0
    var returnSum = 0.0
    var returnEpisodes = 0
    var costSum = 0.0
    var advantageSpreadSum = 0.0
    var iterations = 0
    var outcomes = EpisodeOutcomeTally()
    func tally(_ metrics: PPOIterationMetrics) {
      steps += metrics.environmentSteps
      advantageSpreadSum += metrics.advantageStandardDeviation
      iterations += 1
      if let meanReturn = metrics.meanEpisodeReturn {
        returnSum += meanReturn * Double(metrics.episodesFinished)
        returnEpisodes += metrics.episodesFinished
        costSum += (metrics.meanEpisodeCost ?? 0) * Double(metrics.episodesFinished)
      }
      outcomes.merge(metrics.outcomes)
    }

    var update: ModelUpdate
    let statistics = { () -> RunningNormalizer.State? in
      federatedNormalization
        ? statisticsIncrement(from: broadcastNormalizer, to: site.learner.normalizer.state) : nil
    }
    switch configuration.siteUpdate {
    case .modelDelta:
      for _ in 0..<configuration.localIterations {
        tally(site.learner.trainIteration(environment: site.environment))
      }
      update = ModelUpdate(
        siteName: site.configuration.name, round: round,
        localParameters: site.learner.parameterVector(), globalParameters: broadcast,
        sampleCount: steps, observationStatistics: statistics())
    case .gradient:
      // The update is a descent direction, so the server's x + rate * delta
      // is a gradient step.
      let estimate = site.learner.estimateGradient(environment: site.environment)
      tally(estimate.metrics)
      update = ModelUpdate(
        siteName: site.configuration.name, round: round,
        delta: estimate.gradient.map { -Double($0) }, sampleCount: steps,
        observationStatistics: statistics())
    }

    if configuration.costConstraint?.scaleWeightsByAdvantageSpread == true {
      let spread = advantageSpreadSum / Double(max(iterations, 1))
      update.weightFactor = (1 + Double(site.learner.costMultiplier)) * spread
    }
    // Local noise is added where the site trains, so the delta that any
    // transport carries (and any update compression encodes) is already
    // private. Over MPI or the network the aggregator receives only the
    // noisy delta.
    if let privacy = configuration.privacy, privacy.placement == .local {
      var generator = Xoshiro256(
        seed: configuration.seed, stream: localNoiseStream(site: site.index, round: round))
      update.delta = locallyPrivateDelta(
        update.delta,
        configuration: GaussianPrivacyConfiguration(
          clipNorm: privacy.initialClipNorm, noiseMultiplier: privacy.noiseMultiplier),
        generator: &generator)
    }

    var record = SiteRoundRecord(
      site: site.configuration.name, accepted: true, rejectionReason: nil, status: .accepted,
      environmentSteps: steps,
      meanEpisodeReturn: returnEpisodes > 0 ? returnSum / Double(returnEpisodes) : nil,
      meanEpisodeCost: returnEpisodes > 0 ? costSum / Double(returnEpisodes) : nil,
      targetAttainment: Self.targetAttainment(outcomes.mean),
      outcomeMeans: Dictionary(
        uniqueKeysWithValues: outcomes.sums.keys.filter { reportedOutcomes.contains($0) }
          .map { ($0, outcomes.mean($0)!) }),
      episodes: outcomes.episodes,
      secondsTraining: Date().timeIntervalSince(started))
    record.greedyEpisodeCost = greedyCost
    return SiteResult(update: update, record: record)
  }

  func pooledRecord(round: Int, sites: [SiteRoundRecord], elapsed: Double) -> RoundRecord {
    let steps = sites.reduce(0) { $0 + $1.environmentSteps }
    func weightedMean(_ value: (SiteRoundRecord) -> Double?) -> Double? {
      var sum = 0.0
      var weight = 0.0
      for site in sites {
        if let number = value(site) {
          sum += number * Double(site.environmentSteps)
          weight += Double(site.environmentSteps)
        }
      }
      return weight > 0 ? sum / weight : nil
    }
    var pooled = EpisodeOutcomeTally()
    for site in sites {
      pooled.episodes += site.episodes
      for (name, mean) in site.outcomeMeans { pooled.add(name, mean * Double(site.episodes)) }
    }
    return RoundRecord(
      round: round, sites: sites, acceptedSites: sites.filter(\.accepted).count,
      rejectedSites: sites.filter { $0.status == .rejected }.count,
      meanEpisodeReturn: weightedMean(\.meanEpisodeReturn),
      meanEpisodeCost: weightedMean { $0.accepted ? $0.meanEpisodeCost : nil },
      greedyEpisodeCost: weightedMean { $0.accepted ? $0.greedyEpisodeCost : nil },
      targetAttainment: Self.targetAttainment(pooled.mean),
      outcomeMeans: Dictionary(
        uniqueKeysWithValues: pooled.sums.keys.map { ($0, pooled.mean($0)!) }),
      environmentSteps: steps,
      stepsPerSecond: elapsed > 0 ? Double(steps) / elapsed : 0, secondsElapsed: elapsed)
  }
}

/// Collects per-site results written from concurrent operations.
final class ResultBox: @unchecked Sendable {
  private var slots: [FederatedTrainer.SiteResult?]
  private let lock = NSLock()

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func store(_ result: FederatedTrainer.SiteResult, at index: Int) {
    lock.lock()
    slots[index] = result
    lock.unlock()
  }

  func results() -> [FederatedTrainer.SiteResult] { slots.map { $0! } }
}
