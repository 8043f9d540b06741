import TitrateSecureAggregation

extension FederationConfiguration {
  /// Sites expected in each round under `siteSampling`.
  public var expectedParticipantCount: Int {
    siteSampling.expectedParticipantCount(siteCount: sites.count)
  }

  /// Lists the problems of the aggregation, sampling, failure, privacy and
  /// attack settings, each with the value and the fix.
  func federationProblems() -> [String] {
    var found: [String] = []
    let siteCount = sites.count
    found += siteSampling.problems(siteCount: siteCount)
    if !(1...max(siteCount, 1)).contains(minimumParticipants) {
      found.append(
        "minimumParticipants: \(minimumParticipants) is outside 1...\(siteCount) (the site count)")
    }
    if case .fixedCount(let count) = siteSampling, count < minimumParticipants {
      found.append(
        "minimumParticipants: \(minimumParticipants) is above the \(count) sites sampled per "
          + "round, so every round would be skipped; lower it to at most \(count) "
          + "(--min-participants) or sample more sites (--sample-sites)")
    }
    if siteCount > 0 {
      found += aggregation.problems(participantCount: expectedParticipantCount).map {
        "aggregation: \($0) (with \(expectedParticipantCount) sites expected per round)"
      }
      if let problem = trimmedMeanProblem() { found.append(problem) }
      if let problem = medianProblem() { found.append(problem) }
    }
    if aggregation.containsServerOptimizer && serverOptimizer != .sgd(learningRate: 1) {
      found.append(
        "serverOptimizer: \(serverOptimizer) cannot follow \(aggregation.name), which applies "
          + "its own server step; keep the server optimiser at sgd with learning rate 1")
    }
    if !(proximalMu >= 0 && proximalMu <= 1e6) {
      found.append("proximalMu: \(proximalMu) is outside [0, 1e6]")
    }
    if proximalMu > 0 && siteUpdate == .gradient {
      found.append(
        "proximalMu: \(proximalMu) has no effect with gradient updates, because the proximal "
          + "gradient is zero at the broadcast model; set it to 0 or send model deltas")
    }
    if let deadline = roundDeadlineSeconds, !(deadline > 0 && deadline.isFinite) {
      found.append("roundDeadlineSeconds: \(deadline) must be positive and finite")
    }
    found += siteFailures.problems(siteNames: sites.map(\.name), rounds: rounds)
    found += hostileSiteProblems()
    if costConstraint?.weightUpdatesByMultiplier == true {
      if aggregation != .federatedAveraging(weighting: .bySampleCount) {
        found.append(
          "costConstraint.weightUpdatesByMultiplier scales FedAvg's sample-count weights, but "
            + "the aggregation is \(aggregation.name); use fedavg or remove the flag "
            + "(--weight-by-multiplier)")
      }
      if secureAggregation != nil {
        found.append(
          "costConstraint.weightUpdatesByMultiplier needs each site's update at the "
            + "aggregator, which secure aggregation hides; remove one of them")
      }
    }
    if costConstraint?.greedyCostWithoutEdgePatients == true && !(edgePatientFraction > 0) {
      found.append(
        "costConstraint.greedyCostWithoutEdgePatients leaves out edge patients, but the run "
          + "draws none; add them (--edge-patients) or remove the flag")
    }
    if costConstraint?.scaleWeightsByAdvantageSpread == true {
      // A sample standard deviation needs two samples.
      for site in sites where site.patientsPerBatch * ppo.stepsPerRollout < 2 {
        found.append(
          "costConstraint.scaleWeightsByAdvantageSpread weights site \(site.name) by the "
            + "standard deviation of its advantages, but its rollout has only "
            + "\(site.patientsPerBatch * ppo.stepsPerRollout) sample; raise the patients per "
            + "site or the steps per rollout to give at least 2, or remove the flag "
            + "(--advantage-scaled-weights)")
      }
    }
    if let privacy { found += privacyProblems(privacy) }
    if let secureAggregation { found += secureAggregationProblems(secureAggregation) }
    return found
  }

  private func secureAggregationProblems(
    _ secure: SecureAggregationConfiguration
  ) -> [String] {
    var found = secure.problems(
      siteCount: sites.count, expectedParticipantCount: expectedParticipantCount)
    if !aggregation.isSumBased {
      found.append(
        "secureAggregation: \(aggregation.name) inspects individual updates (it sorts, ranks "
          + "or filters them), but secure aggregation reveals only their sum; use fedavg, "
          + "fedavg-uniform, fedavgm, fedadam, fedyogi or fedadagrad, or train without "
          + "secure aggregation (--secure-aggregation)")
    }
    if observationNormalization == .federated && ppo.normalizeObservations {
      found.append(
        "secureAggregation: federated observation statistics would still reach the server "
          + "from each site in the clear; use per-site normalisation (--normalization per-site)")
    }
    if case .adaptive = privacy?.clipping {
      found.append(
        "secureAggregation: adaptive clipping needs the server to count unclipped updates "
          + "site by site, which secure aggregation hides; use a fixed clip norm (drop "
          + "--dp-adaptive-clip)")
    }
    return found
  }

  /// Returns the problem of a trimmed mean whose positive fraction cuts no
  /// update at the expected site count, nil otherwise. Such a rule is the
  /// plain mean, which the strategy accepts, but a run that requests a
  /// positive fraction expects a robust rule. A fraction of 0 requests the
  /// plain mean and passes.
  private func trimmedMeanProblem() -> String? {
    guard case .trimmedMean(let fraction) = aggregation, fraction > 0 else { return nil }
    let count = expectedParticipantCount
    guard trimmedCount(trimFraction: fraction, participantCount: count) == 0 else { return nil }
    // The smallest fraction, in hundredths, that cuts one of `count`.
    let minimum = (100 / Double(count)).rounded(.up) / 100
    let fix =
      count >= 3
      ? "raise the trim fraction to at least \(minimum) (--trim-fraction) or train more sites "
        + "per round"
      : "train at least 3 sites per round"
    return
      "aggregation: trimmed-mean with trim fraction \(fraction) cuts floor(\(fraction) x "
      + "\(count)) = 0 updates from each end with \(count) sites expected per round, so it is "
      + "the plain mean and tolerates no hostile site; \(fix)"
  }

  /// Returns the problem of a coordinate median over one or two expected
  /// updates, nil otherwise. Such a median is their plain mean, so it
  /// tolerates no hostile site.
  private func medianProblem() -> String? {
    guard aggregation == .coordinateMedian, expectedParticipantCount <= 2 else { return nil }
    let count = expectedParticipantCount
    return
      "aggregation: median with \(count) sites expected per round is the plain mean of their "
      + "updates and tolerates no hostile site; train at least 3 sites per round (--sites, "
      + "--sample-sites or --site-rate) or use fedavg"
  }

  private func hostileSiteProblems() -> [String] {
    var found: [String] = []
    let names = sites.map(\.name)
    var seen: Set<String> = []
    for hostile in hostileSites {
      if !names.contains(hostile.site) {
        found.append(
          "hostileSites: unknown site '\(hostile.site)'; the sites are "
            + names.joined(separator: ", "))
      }
      if !seen.insert(hostile.site).inserted {
        found.append("hostileSites: site '\(hostile.site)' is listed twice; give one attack a site")
      }
      found += hostile.attack.problems().map { "hostileSites.\(hostile.site): \($0)" }
    }
    return found
  }

  private func privacyProblems(_ privacy: DifferentialPrivacyConfiguration) -> [String] {
    var found = privacy.problems()
    if privacy.placement == .central && !aggregation.hasUniformMeanWeights {
      found.append(
        "privacy: central noise is calibrated to a uniform mean, where one site moves the "
          + "average by at most C / m; \(aggregation.name) does not average uniformly, so the "
          + "noise would not cover it. Use fedavg-uniform, or fedavgm, fedadam, fedyogi or "
          + "fedadagrad with uniform weights (--uniform-weights), or local noise (--dp-local)")
    }
    if observationNormalization == .federated && ppo.normalizeObservations {
      found.append(
        "privacy: federated observation statistics are sent without noise, so differential "
          + "privacy would not cover them; use per-site normalisation (--normalization per-site)")
    }
    if costConstraint != nil {
      found.append(
        "privacy: the cost constraint updates the multiplier from each site's measured cost "
          + "without noise, so differential privacy would not cover it; remove the constraint "
          + "(--cost-limit)")
    }
    return found
  }
}

extension AggregationStrategy {
  /// Whether the strategy includes a server optimiser with state (FedAvgM,
  /// FedAdagrad, FedAdam, FedYogi).
  var containsServerOptimizer: Bool {
    switch self {
    case .federatedAveragingWithMomentum, .adaptive: return true
    default: return false
    }
  }

  /// Whether the strategy needs only the (weighted) sum of the accepted
  /// deltas, which is all that secure aggregation reveals: FedAvg, FedAvgM,
  /// FedAdagrad, FedAdam and FedYogi.
  var isSumBased: Bool {
    switch self {
    case .federatedAveraging, .federatedAveragingWithMomentum, .adaptive: return true
    default: return false
    }
  }

  /// Whether the strategy is a uniform mean of all accepted deltas,
  /// possibly followed by a server optimiser: the only rules whose
  /// sensitivity central Gaussian noise is calibrated to.
  var hasUniformMeanWeights: Bool {
    switch self {
    case .federatedAveraging(let weighting),
      .federatedAveragingWithMomentum(let weighting, _),
      .adaptive(_, let weighting, _):
      return weighting == .uniform
    default:
      return false
    }
  }

  /// The strategy's command-line name, as `titrate train --aggregation`
  /// takes it.
  public var name: String {
    switch self {
    case .federatedAveraging(.bySampleCount): return "fedavg"
    case .federatedAveraging(.uniform): return "fedavg-uniform"
    case .federatedAveragingWithMomentum: return "fedavgm"
    case .adaptive(.adagrad, _, _): return "fedadagrad"
    case .adaptive(.adam, _, _): return "fedadam"
    case .adaptive(.yogi, _, _): return "fedyogi"
    case .coordinateMedian: return "median"
    case .trimmedMean: return "trimmed-mean"
    case .krum: return "krum"
    case .multiKrum: return "multi-krum"
    case .bulyan: return "bulyan"
    case .fedPGByzantineFilter: return "fedpg-br"
    }
  }
}
