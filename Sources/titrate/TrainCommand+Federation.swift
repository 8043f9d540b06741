import Foundation
import TitrateFederation
import TitrateSecureAggregation

/// `titrate train` options for aggregation, site sampling, failures,
/// differential privacy and attack simulation.
extension TrainCommand {
  /// Exit code of a run that stopped because the next round would exceed
  /// `--dp-epsilon-budget`; the checkpoint contains the last round within it.
  static let privacyBudgetExitCode: Int32 = 4

  static let aggregationNames = [
    "fedavg", "fedavg-uniform", "fedavgm", "fedadam", "fedyogi", "fedadagrad", "median",
    "trimmed-mean", "krum", "multi-krum", "bulyan", "fedpg-br",
  ]

  /// The aggregations that read each strategy parameter option. The
  /// option given with any other aggregation is rejected, not ignored.
  static let strategyOptionUsers: KeyValuePairs<String, [String]> = [
    "server-momentum": ["fedavgm"],
    "server-tau": ["fedadam", "fedyogi", "fedadagrad"],
    "byzantine-f": ["krum", "multi-krum", "bulyan"],
    "multi-krum-m": ["multi-krum"],
    "trim-fraction": ["trimmed-mean"],
    "fedpg-sigma": ["fedpg-br"],
  ]

  static let federationOptions: [OptionSpecification] = [
    .init(
      name: "aggregation", valueName: "NAME",
      help:
        "how the aggregator combines accepted updates: " + aggregationNames.joined(separator: "|")
        + "; fedavgm and fedadam/fedyogi/fedadagrad apply their own server step (with "
        + "--server-learning-rate as their step size, default 1 for fedavgm and 0.1 for the others)",
      defaultValue: "fedavg"),
    .init(
      name: "uniform-weights", valueName: nil,
      help:
        "weight every site equally in fedavgm and fedadam/fedyogi/fedadagrad (needed for central DP)",
      defaultValue: nil),
    .init(
      name: "server-momentum", valueName: "BETA", help: "fedavgm server momentum, 0-0.999",
      defaultValue: "0.9"),
    .init(
      name: "server-tau", valueName: "TAU",
      help: "fedadam/fedyogi/fedadagrad adaptivity added to sqrt(v), 1e-9-10", defaultValue: "0.001"
    ),
    .init(
      name: "byzantine-f", valueName: "F",
      help: "hostile sites krum, multi-krum and bulyan tolerate, 0-31", defaultValue: "1"),
    .init(
      name: "multi-krum-m", valueName: "M",
      help: "updates multi-krum averages (default: sites per round minus --byzantine-f)",
      defaultValue: nil),
    .init(
      name: "trim-fraction", valueName: "BETA",
      help: "fraction trimmed-mean cuts at each end of every coordinate, 0-0.49",
      defaultValue: "0.2"),
    .init(
      name: "fedpg-sigma", valueName: "SIGMA",
      help: "fedpg-br bound on the spread of honest updates, parameter units", defaultValue: "0.06"),
    .init(
      name: "proximal-mu", valueName: "MU",
      help: "FedProx proximal strength mu added to local training, 0-1000000 (0 is off)",
      defaultValue: "0"),
    .init(
      name: "sample-sites", valueName: "N",
      help: "train N sites per round, drawn uniformly without replacement (default: all)",
      defaultValue: nil),
    .init(
      name: "site-rate", valueName: "Q",
      help: "train each site with probability Q per round (Poisson sampling), 1e-6-1",
      defaultValue: nil),
    .init(
      name: "min-participants", valueName: "N",
      help: "skip a round, keeping the model, when fewer than N updates are accepted",
      defaultValue: "1"),
    .init(
      name: "dropout-probability", valueName: "P",
      help: "simulate each sampled site dropping out of a round with probability P, 0-0.99",
      defaultValue: "0"),
    .init(
      name: "fail-sites", valueName: "SITE:ROUND[:timeout],...",
      help: "simulate a site dropping out (or timing out) in the given round", defaultValue: nil),
    .init(
      name: "round-deadline", valueName: "SECONDS",
      help: "drop a site whose local training takes longer (results then depend on timing)",
      defaultValue: nil),
    .init(
      name: "dp-clip", valueName: "C",
      help: "turn on differential privacy: clip each site's delta to L2 norm C (parameter units)",
      defaultValue: nil),
    .init(
      name: "dp-noise-multiplier", valueName: "Z",
      help: "Gaussian noise standard deviation over the clip norm, with --dp-clip",
      defaultValue: nil),
    .init(
      name: "dp-adaptive-clip", valueName: nil,
      help: "adapt the clip norm to the median update norm, starting from --dp-clip (central only)",
      defaultValue: nil),
    .init(
      name: "dp-local", valueName: nil,
      help: "add the noise at each site instead of at the aggregator", defaultValue: nil),
    .init(
      name: "dp-delta", valueName: "DELTA", help: "delta of the reported (epsilon, delta)",
      defaultValue: "0.00001"),
    .init(
      name: "dp-epsilon-budget", valueName: "EPS",
      help: "stop before a round that would push epsilon above EPS (exit code 4)",
      defaultValue: nil),
    .init(
      name: "secure-aggregation", valueName: nil,
      help:
        "mask every update with SecAgg+ so the aggregator learns only their sum (fedavg, "
        + "fedavg-uniform, fedavgm, fedadam, fedyogi and fedadagrad only; needs "
        + "--normalization per-site)",
      defaultValue: nil),
    .init(
      name: "secagg-threshold", valueName: "T",
      help:
        "shares that rebuild a site's secret, 2 up to --secagg-neighbours (default: a majority "
        + "of the neighbours)",
      defaultValue: nil),
    .init(
      name: "secagg-neighbours", valueName: "K",
      help:
        "sites each site shares secrets with and masks against, an even number (default: all "
        + "other sites, the original SecAgg)",
      defaultValue: nil),
    .init(
      name: "secagg-clip-range", valueName: "C",
      help: "clip every update value to [-C, C] before quantising, parameter units",
      defaultValue: "1"),
    .init(
      name: "secagg-quantization-bits", valueName: "B",
      help:
        "bits per quantised update value, 1-50 (step 2C / (2^B - 1)); with at least 3 sites the "
        + "sum needs B + 2 modulus bits",
      defaultValue: "24"),
    .init(
      name: "secagg-modulus-bits", valueName: "K",
      help: "masks and sums are taken modulo 2^K, 2-53; sites x (2^B - 1) must stay below 2^K",
      defaultValue: "32"),
    .init(
      name: "hostile-sites", valueName: "SITE=KIND[:X],...",
      help:
        "simulate attacks; KIND is sign-flip[:factor], scaled:factor, gaussian:norm, stale "
        + "or negated-reward",
      defaultValue: nil),
  ]

  /// Reads the aggregation, sampling, failure, privacy and attack options
  /// into `configuration`, whose sites and server optimiser are already set.
  static func applyFederationOptions(
    _ parsed: ParsedOptions, to configuration: inout FederationConfiguration
  ) throws {
    let siteCount = configuration.sites.count
    configuration.proximalMu = try parsed.double("proximal-mu", in: 0...1e6)
    if parsed.string("sample-sites") != nil && parsed.string("site-rate") != nil {
      throw CommandError.usage(
        "--sample-sites and --site-rate are two sampling schemes; give only one")
    }
    if let count = try parsed.optionalInteger("sample-sites", in: 1...siteCount) {
      configuration.siteSampling = .fixedCount(count)
    }
    if let rate = try parsed.optionalDouble("site-rate", in: 1e-6...1) {
      configuration.siteSampling = .poisson(rate: rate)
    }
    configuration.minimumParticipants = try parsed.integer("min-participants", in: 1...siteCount)
    configuration.siteFailures.dropoutProbability = try parsed.double(
      "dropout-probability", in: 0...0.99)
    configuration.siteFailures.scheduled = try parseFailures(parsed, configuration: configuration)
    configuration.roundDeadlineSeconds = try parsed.optionalDouble(
      "round-deadline", in: 1e-3...1e6, unit: "s")
    configuration.aggregation = try parseAggregation(parsed, configuration: &configuration)
    configuration.privacy = try parsePrivacy(parsed, configuration: configuration)
    configuration.hostileSites = try parseHostileSites(
      parsed, siteNames: configuration.sites.map(\.name))
    configuration.secureAggregation = try parseSecureAggregation(parsed)
  }

  static func parseSecureAggregation(
    _ parsed: ParsedOptions
  ) throws -> SecureAggregationConfiguration? {
    let dependents = [
      "secagg-threshold", "secagg-neighbours", "secagg-clip-range", "secagg-quantization-bits",
      "secagg-modulus-bits",
    ]
    guard parsed.flag("secure-aggregation") else {
      for dependent in dependents where parsed.explicitOptions.contains(dependent) {
        throw CommandError.usage(
          "--\(dependent) only applies with secure aggregation; add --secure-aggregation or "
            + "remove it")
      }
      return nil
    }
    return SecureAggregationConfiguration(
      threshold: try parsed.optionalInteger("secagg-threshold", in: 2...100_000),
      neighbourCount: try parsed.optionalInteger("secagg-neighbours", in: 2...100_000),
      clipRange: try parsed.double("secagg-clip-range", in: 1e-9...1e6),
      quantizationBits: try parsed.integer("secagg-quantization-bits", in: 1...50),
      modulusBits: try parsed.integer("secagg-modulus-bits", in: 2...53))
  }

  static func parseAggregation(
    _ parsed: ParsedOptions, configuration: inout FederationConfiguration
  ) throws -> AggregationStrategy {
    let name = try parsed.choice("aggregation", from: aggregationNames)
    for (option, users) in strategyOptionUsers
    where parsed.explicitOptions.contains(option) && !users.contains(name) {
      throw CommandError.usage(
        "--\(option) only applies to --aggregation \(users.joined(separator: ", ")), not "
          + "\(name); remove --\(option) or choose one of those aggregations")
    }
    let weighting: UpdateWeighting = parsed.flag("uniform-weights") ? .uniform : .bySampleCount
    let byzantineCount = try parsed.integer("byzantine-f", in: 0...31)
    let explicitRate =
      try parsed.explicitOptions.contains("server-learning-rate")
      ? parsed.double("server-learning-rate", in: 1e-6...100) : nil
    if ["fedavgm", "fedadam", "fedyogi", "fedadagrad"].contains(name) {
      if try parsed.choice("server-optimizer", from: ["sgd", "adam"]) != "sgd" {
        throw CommandError.usage(
          "--server-optimizer adam cannot follow --aggregation \(name), which applies its own "
            + "server step; remove --server-optimizer")
      }
      configuration.serverOptimizer = .sgd(learningRate: 1)
    } else if parsed.flag("uniform-weights") {
      throw CommandError.usage(
        "--uniform-weights applies to fedavgm, fedadam, fedyogi and fedadagrad; for plain "
          + "FedAvg with uniform weights use --aggregation fedavg-uniform")
    }
    let adaptive = { () throws -> AdaptiveServerConfiguration in
      AdaptiveServerConfiguration(
        learningRate: explicitRate ?? 0.1, tau: try parsed.double("server-tau", in: 1e-9...10))
    }
    switch name {
    case "fedavg-uniform": return .federatedAveraging(weighting: .uniform)
    case "fedavgm":
      return .federatedAveragingWithMomentum(
        weighting: weighting,
        configuration: ServerMomentumConfiguration(
          learningRate: explicitRate ?? 1,
          momentum: try parsed.double("server-momentum", in: 0...0.999)))
    case "fedadam":
      return .adaptive(optimizer: .adam, weighting: weighting, configuration: try adaptive())
    case "fedyogi":
      return .adaptive(optimizer: .yogi, weighting: weighting, configuration: try adaptive())
    case "fedadagrad":
      return .adaptive(optimizer: .adagrad, weighting: weighting, configuration: try adaptive())
    case "median": return .coordinateMedian
    case "trimmed-mean":
      return .trimmedMean(trimFraction: try parsed.double("trim-fraction", in: 0...0.49))
    case "krum": return .krum(byzantineCount: byzantineCount)
    case "multi-krum":
      let expected = configuration.expectedParticipantCount
      let selected =
        try parsed.optionalInteger("multi-krum-m", in: 1...64)
        ?? max(1, expected - byzantineCount)
      return .multiKrum(byzantineCount: byzantineCount, selectedCount: selected)
    case "bulyan": return .bulyan(byzantineCount: byzantineCount)
    case "fedpg-br":
      var filter = FedPGFilterConfiguration()
      filter.varianceBound = try parsed.double("fedpg-sigma", in: 1e-9...1e6)
      return .fedPGByzantineFilter(filter)
    default: return .federatedAveraging(weighting: .bySampleCount)
    }
  }

  static func parsePrivacy(
    _ parsed: ParsedOptions, configuration: FederationConfiguration
  ) throws -> DifferentialPrivacyConfiguration? {
    guard let clipNorm = try parsed.optionalDouble("dp-clip", in: 1e-9...1e6) else {
      for dependent in [
        "dp-noise-multiplier", "dp-adaptive-clip", "dp-local", "dp-epsilon-budget", "dp-delta",
      ]
      where parsed.explicitOptions.contains(dependent) {
        throw CommandError.usage(
          "--\(dependent) only applies with differential privacy; add --dp-clip C or remove it")
      }
      return nil
    }
    guard let noiseMultiplier = try parsed.optionalDouble("dp-noise-multiplier", in: 1e-6...1e6)
    else {
      throw CommandError.usage(
        "--dp-clip needs --dp-noise-multiplier Z; for example 1.0 (larger Z spends epsilon slower)")
    }
    let clipping: PrivacyClipping =
      parsed.flag("dp-adaptive-clip")
      ? .adaptive(
        AdaptiveClippingConfiguration(
          expectedParticipantCount: configuration.expectedParticipantCount,
          initialClipNorm: clipNorm))
      : .fixed(clipNorm: clipNorm)
    return DifferentialPrivacyConfiguration(
      placement: parsed.flag("dp-local") ? .local : .central, clipping: clipping,
      noiseMultiplier: noiseMultiplier, delta: try parsed.double("dp-delta", in: 1e-300...0.5),
      epsilonBudget: try parsed.optionalDouble("dp-epsilon-budget", in: 1e-6...1e6))
  }

  static func parseFailures(
    _ parsed: ParsedOptions, configuration: FederationConfiguration
  ) throws -> [ScheduledSiteFailure] {
    guard let items = try parsed.list("fail-sites") else { return [] }
    return try items.map { item in
      let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      guard (2...3).contains(parts.count), let round = Int(parts[1]),
        parts.count == 2 || ["dropout", "timeout"].contains(parts[2])
      else {
        throw CommandError.usage(
          "--fail-sites item '\(item)' is not SITE:ROUND or SITE:ROUND:timeout; for example "
            + "icu_arc:3 or icu_arc:3:timeout")
      }
      let kind: SimulatedFailureKind =
        parts.count == 3 && parts[2] == "timeout" ? .timeout : .dropout
      return ScheduledSiteFailure(site: parts[0], round: round, kind: kind)
    }
  }

  static func parseHostileSites(_ parsed: ParsedOptions, siteNames: [String]) throws
    -> [HostileSite]
  {
    guard let items = try parsed.list("hostile-sites") else { return [] }
    return try items.map { item in
      let fix =
        "write SITE=KIND[:X] with KIND sign-flip[:factor], scaled:factor, gaussian:norm, stale "
        + "or negated-reward, for example icu_arc=scaled:10"
      // Empty parts are kept, so that '=stale' names an empty site and
      // 'sign-flip:' is an error rather than the default factor.
      let halves = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        .map(String.init)
      guard halves.count == 2 else {
        throw CommandError.usage("--hostile-sites item '\(item)' has no '='; \(fix)")
      }
      guard siteNames.contains(halves[0]) else {
        throw CommandError.usage(
          "--hostile-sites: unknown site '\(halves[0])'; the sites are "
            + siteNames.joined(separator: ", "))
      }
      let kindParts = halves[1].split(
        separator: ":", maxSplits: 1, omittingEmptySubsequences: false
      ).map(String.init)
      let parameter = kindParts.count == 2 ? Double(kindParts[1]) : nil
      if kindParts.count == 2 && !(parameter.map { $0 > 0 && $0.isFinite } ?? false) {
        throw CommandError.usage(
          "--hostile-sites item '\(item)': '\(kindParts[1])' is not a positive number; \(fix)")
      }
      let attack: SiteAttack
      switch (kindParts[0], parameter) {
      case ("sign-flip", let factor): attack = .signFlip(factor: factor ?? 1)
      case ("scaled", let factor?): attack = .scaled(factor: factor)
      case ("gaussian", let norm?): attack = .gaussian(norm: norm)
      case ("stale", nil): attack = .stale
      case ("negated-reward", nil): attack = .negatedReward
      default:
        throw CommandError.usage("--hostile-sites item '\(item)' is not a known attack; \(fix)")
      }
      return HostileSite(site: halves[0], attack: attack)
    }
  }
}

extension TrainCommand {
  /// Returns one line describing aggregation, sampling, failures, privacy and
  /// attacks, printed once at the start of a run.
  static func federationSummary(_ configuration: FederationConfiguration) -> String {
    var parts = ["aggregation \(configuration.aggregation.name)"]
    switch configuration.siteSampling {
    case .all: parts.append("all sites each round")
    case .fixedCount(let count): parts.append("\(count) sites sampled per round")
    case .poisson(let rate): parts.append("each site sampled with probability \(rate)")
    }
    let minimum = configuration.minimumParticipants
    parts.append("at least \(minimum) accepted update\(minimum == 1 ? "" : "s") per round")
    if configuration.proximalMu > 0 { parts.append("FedProx mu \(configuration.proximalMu)") }
    if let privacy = configuration.privacy {
      var text =
        "\(privacy.placement.rawValue) DP: clip \(privacy.initialClipNorm), noise multiplier "
        + "\(privacy.noiseMultiplier), delta \(privacy.delta)"
      if case .adaptive = privacy.clipping { text += ", adaptive clip" }
      if let budget = privacy.epsilonBudget { text += ", epsilon budget \(budget)" }
      parts.append(text)
    }
    if let secure = configuration.secureAggregation {
      let n = configuration.expectedParticipantCount
      parts.append(
        "secure aggregation: threshold \(secure.effectiveThreshold(participantCount: n)), "
          + "\(secure.effectiveNeighbourCount(participantCount: n)) neighbours, clip range "
          + "\(secure.clipRange), \(secure.quantizationBits)-bit values modulo "
          + "2^\(secure.modulusBits)")
    }
    if !configuration.hostileSites.isEmpty {
      parts.append(
        "hostile sites "
          + configuration.hostileSites.map { "\($0.site)=\($0.attack.label)" }.joined(
            separator: ", "))
    }
    return parts.joined(separator: "; ")
  }
}

extension TrainCommand {
  /// Returns a warning when secure aggregation would clip many of the
  /// noisy values that central DP's distributed noise produces, nil
  /// otherwise.
  ///
  /// Each site adds noise of standard deviation z C / sqrt(t) and then
  /// clips every value to [-C_q, C_q] before quantising. The warning is
  /// given below C_q = C + 4 sigma, where the noise alone pushes about
  /// 6e-5 of the values outside the range. Clipped values bias the mean
  /// toward zero and leave the sum short of the Gaussian mechanism that
  /// the accountant charges.
  static func secureNoiseClippingWarning(
    _ configuration: FederationConfiguration, command: String
  ) -> String? {
    guard let secure = configuration.secureAggregation, let privacy = configuration.privacy,
      privacy.placement == .central
    else { return nil }
    let threshold = secure.effectiveThreshold(
      participantCount: configuration.expectedParticipantCount)
    let clipNorm = privacy.initialClipNorm
    let standardDeviation = privacy.noiseMultiplier * clipNorm / Double(threshold).squareRoot()
    let safeRange = clipNorm + 4 * standardDeviation
    guard secure.clipRange < safeRange else { return nil }
    // Two-sided tail of the noise alone, taking the deltas as small.
    let clippedFraction = erfc(secure.clipRange / (standardDeviation * 2.0.squareRoot()))
    return String(
      format: "titrate %@: warning: secure aggregation clips each site's noisy values to "
        + "+-%g (--secagg-clip-range), but the distributed DP noise has standard deviation "
        + "%.3g (z C / sqrt(t) with t = %d), so about %.2g%% of the values will be clipped. "
        + "That biases the mean toward zero and leaves the sum short of the Gaussian mechanism "
        + "the accountant charges. Raise --secagg-clip-range to %.3g (C + 4 standard "
        + "deviations) or more",
      command, secure.clipRange, standardDeviation, threshold, 100 * clippedFraction, safeRange)
  }
}
