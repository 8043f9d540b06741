import TitrateRL
import TitrateSecureAggregation

/// One simulated hospital: the patient population it trains on and how
/// many virtual patients it steps together.
public struct SiteConfiguration: Codable, Sendable, Equatable {
  /// Site name used in logs, metrics and checkpoints.
  public var name: String
  /// Name of the environment's site population (for vancomycin: `icu_arc`,
  /// `elderly_renal`, `haematology`, `obese`).
  public var population: String
  /// Virtual patients stepped together at the site, 1...1,000,000.
  public var patientsPerBatch: Int
  /// SHA-256 of the site's own covariate cohort file when it trains on one
  /// (see `PatientCohort`); nil for the population's distributions. Only
  /// the hash is stored: the rows are patient data and stay at the site.
  public var cohortSHA256: String? = nil

  public init(
    name: String, population: String, patientsPerBatch: Int, cohortSHA256: String? = nil
  ) {
    self.name = name
    self.population = population
    self.patientsPerBatch = patientsPerBatch
    self.cohortSHA256 = cohortSHA256
  }
}

/// The kind of update a site sends back each round.
public enum SiteUpdateKind: String, Codable, Sendable, Equatable, CaseIterable {
  /// Local parameters minus the broadcast ones after `localIterations` PPO
  /// iterations (FedAvg, McMahan et al. 2017).
  case modelDelta
  /// Minus the gradient of the PPO loss at the broadcast parameters over one
  /// rollout (FedSGD, McMahan et al. 2017). The server optimiser then takes
  /// the gradient step, so its learning rate is a step size (for example
  /// 1e-3), not the FedAvg 1.
  case gradient
}

/// Everything that defines a federated training run. Stored in the
/// checkpoint as JSON, so a run can be inspected and resumed.
public struct FederationConfiguration: Codable, Sendable, Equatable {
  /// Environment name, the file stem under `Environments/`.
  public var environment: String = "vancomycin"
  /// The sites, in the order their updates are averaged.
  public var sites: [SiteConfiguration] = []
  /// Federated rounds, 1...100,000.
  public var rounds: Int = 40
  /// PPO iterations (rollout plus update epochs) each site runs per round
  /// before it returns its model delta, 1...1,000.
  public var localIterations: Int = 1
  /// Kind of site update: model deltas (default) or policy gradients.
  public var siteUpdate: SiteUpdateKind = .modelDelta
  /// Server optimiser that applies the averaged delta.
  public var serverOptimizer: ServerOptimizerConfiguration = .sgd(learningRate: 1)
  /// Seed of every random stream in the run.
  public var seed: UInt64 = 1
  /// Sites trained at the same time, 1...256. Results do not depend on it:
  /// every site uses one OpenBLAS thread whatever this value is.
  public var threads: Int = 2
  /// Source of the policy's observation statistics.
  public var observationNormalization: ObservationNormalization = .federated
  /// Local PPO hyperparameters, the same at every site.
  public var ppo: PPOConfiguration = PPOConfiguration()
  /// Limit on the expected safety cost per episode, enforced by Lagrange
  /// multipliers that the aggregator updates from each round's cost. nil
  /// trains without a constraint.
  public var costConstraint: CostConstraint? = nil
  /// The rule that turns a round's accepted updates into the server step.
  /// The default, FedAvg weighted by sample count, is the original
  /// aggregation followed by `serverOptimizer`, bit for bit. FedAvgM and
  /// FedAdagrad/FedAdam/FedYogi contain their own server optimiser, so
  /// `serverOptimizer` must then stay `.sgd(learningRate: 1)`.
  public var aggregation: AggregationStrategy = .federatedAveraging(weighting: .bySampleCount)
  /// FedProx proximal strength mu, in [0, 1e6]: local training adds
  /// mu (w - w_global) to every gradient (Li et al., MLSys 2020). 0 is
  /// plain local training.
  public var proximalMu: Double = 0
  /// The scheme that picks the sites training in each round.
  public var siteSampling: SiteSampling = .all
  /// Accepted updates a round needs, 1...number of sites. A round with fewer
  /// is skipped: the global model and server state stay unchanged, and the
  /// round still counts toward `rounds`.
  public var minimumParticipants: Int = 1
  /// Simulated dropouts and timeouts, for tests and research.
  public var siteFailures = SiteFailureSimulation()
  /// Wall-clock seconds a site may spend on local training, in (0, inf); a
  /// slower site's reply is dropped. nil (the default) waits for every
  /// site, which keeps runs deterministic. A deadline makes results depend
  /// on machine load.
  public var roundDeadlineSeconds: Double? = nil
  /// Differential privacy; nil trains without clipping or noise.
  public var privacy: DifferentialPrivacyConfiguration? = nil
  /// Simulated hostile sites, for robustness tests and research.
  public var hostileSites: [HostileSite] = []
  /// Secure aggregation (SecAgg+): the server learns only the sum of the
  /// round's updates. nil sends updates in the clear.
  public var secureAggregation: SecureAggregationConfiguration? = nil
  /// Fraction of every site's training patients drawn from the
  /// environment's edge covariates instead of the site's population
  /// (domain randomisation), in [0, 0.5]; 0 draws none. The environment
  /// factory reads it; the trainer itself does not.
  public var edgePatientFraction: Double = 0
  /// Encoding, with error feedback, that `titrate train` applies to every
  /// site's delta through `CompressingTransport`. The trainer itself does
  /// not read it. nil means not recorded, as in configurations stored
  /// before the setting existed and in a network aggregator's run, whose
  /// sites each choose their own encoding.
  public var updateCompression: UpdateCompression? = nil

  /// Creates the default configuration (no sites yet).
  public init() {}

  /// Lists every invalid setting; empty when the configuration is valid.
  public func problems() -> [String] {
    var found: [String] = []
    if sites.isEmpty { found.append("sites: at least one site is needed") }
    let names = sites.map(\.name)
    if Set(names).count != names.count {
      found.append("sites: site names must be unique, got \(names)")
    }
    for site in sites where !(1...1_000_000).contains(site.patientsPerBatch) {
      found.append(
        "sites.\(site.name).patientsPerBatch: \(site.patientsPerBatch) is outside 1...1000000")
    }
    if !(1...100_000).contains(rounds) { found.append("rounds: \(rounds) is outside 1...100000") }
    if !(1...1_000).contains(localIterations) {
      found.append("localIterations: \(localIterations) is outside 1...1000")
    }
    if !(1...256).contains(threads) { found.append("threads: \(threads) is outside 1...256") }
    if !(0...0.5).contains(edgePatientFraction) {
      found.append("edgePatientFraction: \(edgePatientFraction) is outside 0...0.5")
    }
    if siteUpdate == .gradient && localIterations != 1 {
      found.append(
        "localIterations: \(localIterations) with gradient updates; a gradient site computes one "
          + "gradient per round, so set localIterations to 1")
    }
    found += serverOptimizer.problems().map { "serverOptimizer: \($0)" }
    found += (costConstraint?.problems() ?? []).map { "costConstraint: \($0)" }
    found += federationProblems()
    do {
      try ppo.validate()
    } catch {
      found.append("ppo: \(error)")
    }
    return found
  }
}

extension FederationConfiguration {
  private enum CodingKeys: String, CodingKey {
    case environment, sites, rounds, localIterations, siteUpdate, serverOptimizer, seed, threads
    case observationNormalization, ppo, costConstraint
    case aggregation, proximalMu, siteSampling, minimumParticipants, siteFailures
    case roundDeadlineSeconds, privacy, hostileSites, secureAggregation, edgePatientFraction
    case updateCompression
  }

  /// Decodes a configuration in which absent keys keep their defaults, so
  /// configurations stored before a setting existed still load.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init()
    func read<Value: Decodable>(_ key: CodingKeys, _ value: inout Value) throws {
      if let decoded = try container.decodeIfPresent(Value.self, forKey: key) { value = decoded }
    }
    try read(.environment, &environment)
    try read(.sites, &sites)
    try read(.rounds, &rounds)
    try read(.localIterations, &localIterations)
    try read(.siteUpdate, &siteUpdate)
    try read(.serverOptimizer, &serverOptimizer)
    try read(.seed, &seed)
    try read(.threads, &threads)
    try read(.observationNormalization, &observationNormalization)
    try read(.ppo, &ppo)
    costConstraint = try container.decodeIfPresent(CostConstraint.self, forKey: .costConstraint)
    try read(.aggregation, &aggregation)
    try read(.proximalMu, &proximalMu)
    try read(.siteSampling, &siteSampling)
    try read(.minimumParticipants, &minimumParticipants)
    try read(.siteFailures, &siteFailures)
    roundDeadlineSeconds = try container.decodeIfPresent(
      Double.self, forKey: .roundDeadlineSeconds)
    privacy = try container.decodeIfPresent(
      DifferentialPrivacyConfiguration.self, forKey: .privacy)
    try read(.hostileSites, &hostileSites)
    secureAggregation = try container.decodeIfPresent(
      SecureAggregationConfiguration.self, forKey: .secureAggregation)
    try read(.edgePatientFraction, &edgePatientFraction)
    updateCompression = try container.decodeIfPresent(
      UpdateCompression.self, forKey: .updateCompression)
  }
}
