import TitrateCheckpoint

/// Checkpoint entries of the round machinery: strategy moments, the
/// privacy accountant, the adaptive clip norm and stale attack deltas.
extension FederatedTrainer {
  /// Stores the strategy's server state, the privacy accountant and the
  /// attack memory. Empty moment vectors are left out.
  func setRoundState(in contents: inout CheckpointContents) {
    contents.set(
      CheckpointPath.strategyRounds, shape: [], values: [Int64(strategyState.roundsApplied)])
    if !strategyState.firstMoment.isEmpty {
      contents.set(
        CheckpointPath.strategyFirstMoment, shape: [strategyState.firstMoment.count],
        values: strategyState.firstMoment)
    }
    if !strategyState.secondMoment.isEmpty {
      contents.set(
        CheckpointPath.strategySecondMoment, shape: [strategyState.secondMoment.count],
        values: strategyState.secondMoment)
    }
    if let privacyAccountant {
      contents.set(
        CheckpointPath.privacyOrders, shape: [privacyAccountant.orders.count],
        values: privacyAccountant.orders)
      contents.set(
        CheckpointPath.privacyTotals, shape: [privacyAccountant.totalRDP.count],
        values: privacyAccountant.totalRDP)
      if let privacyEpsilon {
        contents.set(CheckpointPath.privacyEpsilon, shape: [], values: [privacyEpsilon])
      }
    }
    if let adaptiveClipState {
      contents.set(CheckpointPath.adaptiveClipNorm, shape: [], values: [adaptiveClipState.clipNorm])
    }
    for (site, delta) in staleDeltas.sorted(by: { $0.key < $1.key }) {
      contents.set(CheckpointPath.staleDelta(site), shape: [delta.count], values: delta)
    }
  }

  /// Restores what `setRoundState` stored. Checkpoints written before
  /// these entries existed lack them and resume with the initial state.
  func restoreRoundState(from contents: CheckpointContents) throws {
    let parameterCount = globalParameters.count
    if contents[CheckpointPath.strategyRounds] != nil {
      func moment(_ path: String) throws -> [Double] {
        contents[path] == nil ? [] : try contents.requireFloat64(path, shape: [parameterCount])
      }
      strategyState = StrategyState(
        roundsApplied: Int(try contents.requireScalar(CheckpointPath.strategyRounds) as Int64),
        firstMoment: try moment(CheckpointPath.strategyFirstMoment),
        secondMoment: try moment(CheckpointPath.strategySecondMoment))
    }
    if privacyAccountant != nil {
      let orders = try contents.requireArray(CheckpointPath.privacyOrders, of: Double.self).values
      let totals = try contents.requireFloat64(
        CheckpointPath.privacyTotals, shape: [orders.count])
      guard orders.allSatisfy({ $0 > 1 && $0.isFinite }),
        totals.allSatisfy({ $0 >= 0 && !$0.isNaN })
      else {
        throw TrainingCheckpointError(
          reason:
            "checkpoint entries 'privacy/rdp_*' hold orders not above 1 or negative RDP "
            + "values; the file is damaged")
      }
      privacyAccountant = RenyiAccountant(orders: orders, totalRDP: totals)
    }
    if adaptiveClipState != nil {
      let clipNorm = try contents.requireScalar(CheckpointPath.adaptiveClipNorm) as Double
      guard clipNorm > 0 && clipNorm.isFinite else {
        throw TrainingCheckpointError(
          reason:
            "checkpoint entry '\(CheckpointPath.adaptiveClipNorm)' is \(clipNorm); a clip norm "
            + "must be positive and finite, so the file is damaged")
      }
      adaptiveClipState = AdaptiveClippingState(clipNorm: clipNorm)
    }
    for hostile in configuration.hostileSites where hostile.attack == .stale {
      let path = CheckpointPath.staleDelta(hostile.site)
      if contents[path] != nil {
        staleDeltas[hostile.site] = try contents.requireFloat64(path, shape: [parameterCount])
      }
    }
  }
}
