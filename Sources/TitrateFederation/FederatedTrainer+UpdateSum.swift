import TitrateRandom

extension FederationConfiguration {
  /// Returns why this run cannot sum its updates where the sites train, or
  /// nil when it can.
  ///
  /// Summing suits FedAvg (both weightings), FedAvgM and the FedOpt
  /// family, whose step depends on the updates only through their weighted
  /// sum. Validation, local noise and simulated attacks run on the process
  /// that trained the site, and central differential privacy clips there
  /// and adds its noise to the total at the aggregator.
  public var updateSumProblem: String? {
    if secureAggregation != nil {
      return "secure aggregation has its own protocol, in which the aggregator receives "
        + "masked updates and unmasks only their sum"
    }
    if costConstraint?.weightUpdatesByMultiplier == true {
      return "the multiplier weighting (--weight-by-multiplier) scales each site's update at "
        + "the aggregator, so it needs every update there"
    }
    if !aggregation.isMeanBased {
      return "the robust strategies rank or select individual updates, so they need every "
        + "update at the aggregator"
    }
    return nil
  }

  /// The weighting of the mean-based strategy, which the configuration
  /// check requires to be `.uniform` under central differential privacy.
  var summedWeighting: UpdateWeighting {
    switch aggregation {
    case .federatedAveraging(let weighting), .federatedAveragingWithMomentum(let weighting, _),
      .adaptive(_, let weighting, _):
      return weighting
    default:
      return .uniform
    }
  }
}

extension FederatedTrainer {
  /// The transport when it sums updates where the sites train, or nil when
  /// every update comes to the aggregator.
  var summingTransport: (any UpdateSumTransport)? {
    guard let summing = transport as? any UpdateSumTransport, summing.sumsUpdates else {
      return nil
    }
    return summing
  }

  /// The clip norm C the sites apply this round under central differential
  /// privacy, in parameter units, or nil without it.
  var roundClipNorm: Double? {
    guard let privacy = configuration.privacy, privacy.placement == .central else { return nil }
    switch privacy.clipping {
    case .fixed(let clipNorm):
      return clipNorm
    case .adaptive(let adaptive):
      return (adaptiveClipState ?? AdaptiveClippingState(configuration: adaptive)).clipNorm
    }
  }

  /// Runs the training and validation of one round through a summing
  /// transport. Returns the replies in sampling order, whose accepted
  /// updates carry no delta, and the combined sum.
  /// - Throws: `FederationTransportError.updateSumUnsupported` when the
  ///   configuration cannot be summed, or the transport's error.
  func collectSummedReplies(
    _ summing: any UpdateSumTransport, sampled: [Int], failures: [Int: SimulatedFailureKind],
    training: SiteTrainingRequest
  ) throws -> CollectedReplies {
    if let problem = configuration.updateSumProblem {
      throw FederationTransportError.updateSumUnsupported(problem)
    }
    let request = UpdateSumRequest(
      training: training, sampledIndices: sampled, failures: failures, clipNorm: roundClipNorm)
    let total = try summing.trainAndSumSites(request, trainer: self)
    guard total.parameterCount == training.globalParameters.count else {
      throw FederationTransportError.unexpectedReply(
        "the update sum has \(total.parameterCount) parameters, expected "
          + "\(training.globalParameters.count)")
    }
    var verdicts: [Int: SiteVerdict] = [:]
    for verdict in total.verdicts {
      guard sampled.contains(verdict.siteIndex), verdicts[verdict.siteIndex] == nil else {
        throw FederationTransportError.unexpectedReply(
          "a verdict for site \(verdict.siteIndex), which was not sampled or came twice")
      }
      verdicts[verdict.siteIndex] = verdict
    }

    var collected = CollectedReplies()
    for index in sampled {
      guard let verdict = verdicts[index] else {
        throw FederationTransportError.unexpectedReply("no verdict for site \(siteNames[index])")
      }
      collected.records.append(verdict.record)
      if verdict.arrived { collected.arrivedCount += 1 }
      if let sampleCount = verdict.acceptedSampleCount {
        collected.accepted.append(
          ModelUpdate(
            siteName: siteNames[index], round: training.round, delta: [],
            sampleCount: sampleCount, observationStatistics: verdict.observationStatistics))
      }
      if let stale = verdict.newStaleDelta { collected.newStaleDeltas[siteNames[index]] = stale }
    }
    collected.updateSum = total
    return collected
  }

  /// Trains the sites of `request` that this process hosts, validates
  /// their updates as the aggregator would, and sums the accepted ones.
  ///
  /// - Parameters:
  ///   - hostedSites: indices of the sites this process trains. Sampled
  ///     sites outside it are left to other processes.
  ///   - updateFilter: replaces an update before validation, as in
  ///     `runRound`, for tests.
  /// - Returns: the sum over the hosted sites with one verdict per hosted
  ///   sampled site, in sampling order.
  public func sumSitesLocally(
    _ request: UpdateSumRequest, hostedSites: [Int],
    updateFilter: ((ModelUpdate) -> ModelUpdate)? = nil
  ) -> SiteUpdateSum {
    let hosted = Set(hostedSites)
    var local = request.training
    local.siteIndices = request.training.siteIndices.filter { hosted.contains($0) }
    let results = local.siteIndices.isEmpty ? [] : trainSitesLocally(local)
    let resultsBySite = Dictionary(uniqueKeysWithValues: zip(local.siteIndices, results))
    let parameterCount = request.training.globalParameters.count
    let weighting = configuration.summedWeighting

    var total = SiteUpdateSum(parameterCount: parameterCount)
    for index in request.sampledIndices where hosted.contains(index) {
      var collected = CollectedReplies()
      collect(
        site: index, result: resultsBySite[index], failure: request.failures[index],
        round: request.training.round, broadcastCount: parameterCount,
        updateFilter: updateFilter, into: &collected)
      var verdict = SiteVerdict(
        siteIndex: index, record: collected.records[0], arrived: collected.arrivedCount > 0,
        acceptedSampleCount: nil, observationStatistics: nil,
        newStaleDelta: collected.newStaleDeltas[siteNames[index]])
      if let update = collected.accepted.first {
        verdict.acceptedSampleCount = update.sampleCount
        verdict.observationStatistics = update.observationStatistics
        let weight = weighting == .bySampleCount ? Double(update.sampleCount) : 1
        total.add(update.delta, weight: weight, clipNorm: request.clipNorm)
      }
      total.verdicts.append(verdict)
    }
    return total
  }

  /// Stores the deltas that `stale` attackers among the verdicts captured,
  /// as `runRound` does at the aggregator. Processes that host such a site
  /// call it after each summed round, because they build its reply.
  public func recordStaleDeltas(of sum: SiteUpdateSum) {
    for verdict in sum.verdicts {
      if let delta = verdict.newStaleDelta { staleDeltas[siteNames[verdict.siteIndex]] = delta }
    }
  }

  /// Combines a round's summed updates without changing the trainer, as
  /// `aggregate` does with the individual updates.
  ///
  /// The mean is the weighted sum divided by the total weight. Under
  /// central differential privacy the sites clipped their deltas, and the
  /// noise and the adaptive clip update come from the same random stream
  /// as in `aggregate`, so they match the one-process run draw for draw.
  /// - Throws: `StrategyRoundError` from the server optimiser, or
  ///   `AggregationError.zeroTotalWeight`.
  func aggregateSum(
    _ total: SiteUpdateSum, accepted: [ModelUpdate], round: Int
  ) throws -> AggregationOutcome {
    guard !accepted.isEmpty else { throw StrategyRoundError.noUpdates }
    var state = strategyState
    let used = accepted.map(\.siteName)
    if let privacy = configuration.privacy, privacy.placement == .central {
      var clipState = adaptiveClipState
      var generator = Xoshiro256(
        seed: configuration.seed, stream: Self.centralNoiseStream + UInt64(round))
      let clipped = ClippedSum(
        sum: total.deltaSum, unclippedCount: total.unclippedCount, deltaCount: accepted.count)
      let participantCount = configuration.expectedParticipantCount
      let noisy: PrivateAverage
      let clipNorm: Double
      switch privacy.clipping {
      case .fixed(let fixedNorm):
        clipNorm = fixedNorm
        noisy = noisyAverage(
          ofClippedSum: clipped,
          configuration: GaussianPrivacyConfiguration(
            clipNorm: fixedNorm, noiseMultiplier: privacy.noiseMultiplier),
          participantCount: participantCount, generator: &generator)
      case .adaptive(let adaptive):
        var current = clipState ?? AdaptiveClippingState(configuration: adaptive)
        clipNorm = current.clipNorm
        noisy = adaptiveNoisyAverage(
          ofClippedSum: clipped, configuration: adaptive,
          noiseMultiplier: privacy.noiseMultiplier, participantCount: participantCount,
          state: &current, generator: &generator)
        clipState = current
      }
      let step = try serverStepOnMean(noisy.average, state: &state)
      return AggregationOutcome(
        step: step, strategyState: state, adaptiveClipState: clipState, usedSiteNames: used,
        clipNorm: clipNorm)
    }

    guard total.totalWeight > 0 else { throw AggregationError.zeroTotalWeight }
    let mean = total.deltaSum.map { $0 / total.totalWeight }
    let step = try serverStepOnMean(mean, state: &state)
    return AggregationOutcome(
      step: step, strategyState: state, adaptiveClipState: adaptiveClipState,
      usedSiteNames: used, clipNorm: configuration.privacy.map(\.initialClipNorm))
  }
}
