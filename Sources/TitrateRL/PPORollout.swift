import TitrateEnvironments
import TitrateLinearAlgebra
import TitratePolicy
import TitrateRandom

/// Transitions of one rollout, flattened time-major (`step * batch + env`).
struct PPORollout {
  /// Normalised observations, `transitions x observationSize`.
  var observations: [Float]
  /// Policy actions (level index or unclipped Gaussian sample), one each.
  var policyActions: [Float]
  var logProbabilities: [Float]
  var values: [Float]
  var advantages: [Float]
  var returns: [Float]

  var transitionCount: Int { logProbabilities.count }
}

extension PPOLearner {
  /// Steps the environment `stepsPerRollout` times with the current
  /// policy and computes advantages and returns.
  func collectRollout(
    environment: any VectorizedEnvironment, metrics: inout PPOIterationMetrics
  ) -> PPORollout {
    let batch = environment.batchSize
    let steps = configuration.stepsPerRollout
    let transitions = steps * batch
    if currentObservations == nil || runningReturns.count != batch {
      currentObservations = environment.reset(seed: generator.next())
      runningReturns = [Double](repeating: 0, count: batch)
    }
    if runningCosts.count != batch { runningCosts = [Double](repeating: 0, count: batch) }
    // Lagrangian shaping (Tessler et al. 2019, RCPO; scaled by 1 / (1 + lambda)
    // as in Ray et al. 2019) so that value targets keep their scale as the
    // multiplier grows.
    let multiplier = costMultiplier
    let shapingScale = 1 / (1 + multiplier)

    var observations = [Float]()
    observations.reserveCapacity(transitions * observationSize)
    var policyActions = [Float]()
    policyActions.reserveCapacity(transitions)
    var logProbabilities = [Float]()
    logProbabilities.reserveCapacity(transitions)
    var values = [Float]()
    values.reserveCapacity(transitions)
    var rewards = [Float]()
    rewards.reserveCapacity(transitions)
    var terminated = [Bool]()
    terminated.reserveCapacity(transitions)
    var truncated = [Bool]()
    truncated.reserveCapacity(transitions)
    // Filled for truncated entries now and for continuing ones below.
    var nextValues = [Float](repeating: 0, count: transitions)
    var finishedReturnSum = 0.0
    var finishedCostSum = 0.0

    for step in 0..<steps {
      // Observation statistics follow the rollout (gymnasium's
      // NormalizeObservation order: update, then normalise).
      let raw = currentObservations!
      precondition(
        raw.count == batch * observationSize,
        "environment returned \(raw.count) observation values, expected \(batch * observationSize)")
      if configuration.normalizeObservations {
        normalizer.update(observations: raw, rows: batch)
      }
      let normalized = Matrix(rows: batch, columns: observationSize, values: normalizedForPolicy(raw))
      let sample = actorCritic.sample(observations: normalized, generator: &generator)
      observations += normalized.values
      policyActions += sample.policyActions.values
      logProbabilities += sample.logProbabilities
      values += actorCritic.value.forward(normalized).values

      let result = environment.step(actions: sample.environmentActions)
      precondition(
        result.rewards.count == batch && result.terminated.count == batch
          && result.truncated.count == batch && result.costs.count == batch,
        "environment step returned arrays that are not of batch size \(batch)")
      if multiplier == 0 {
        rewards += result.rewards
      } else {
        for (reward, cost) in zip(result.rewards, result.costs) {
          rewards.append((reward - multiplier * cost) * shapingScale)
        }
      }
      terminated += result.terminated
      truncated += result.truncated
      metrics.costSum += result.costs.reduce(0.0) { $0 + Double($1) }

      var truncatedRows = [Int]()
      for environmentIndex in 0..<batch {
        runningReturns[environmentIndex] += Double(result.rewards[environmentIndex])
        runningCosts[environmentIndex] += Double(result.costs[environmentIndex])
        if result.terminated[environmentIndex] || result.truncated[environmentIndex] {
          finishedReturnSum += runningReturns[environmentIndex]
          finishedCostSum += runningCosts[environmentIndex]
          metrics.episodesFinished += 1
          runningReturns[environmentIndex] = 0
          runningCosts[environmentIndex] = 0
        }
        if result.truncated[environmentIndex] && !result.terminated[environmentIndex] {
          truncatedRows.append(environmentIndex)
        }
      }
      // Truncated episodes bootstrap from the value of their final
      // observation, evaluated in one batch.
      if !truncatedRows.isEmpty {
        var finals = [Float]()
        finals.reserveCapacity(truncatedRows.count * observationSize)
        for row in truncatedRows {
          let start = row * observationSize
          finals += result.finalObservations[start..<(start + observationSize)]
        }
        let finalValues = actorCritic.values(
          observations: normalizedForPolicy(finals), count: truncatedRows.count)
        for (position, row) in truncatedRows.enumerated() {
          nextValues[step * batch + row] = finalValues[position]
        }
      }
      currentObservations = result.observations
    }

    // Continuing entries bootstrap from the value of the next step's
    // observation; after the last step that is the carried-over one.
    let lastValues = actorCritic.values(
      observations: normalizedForPolicy(currentObservations!), count: batch)
    for index in 0..<transitions where !terminated[index] && !truncated[index] {
      let nextIndex = index + batch
      nextValues[index] = nextIndex < transitions ? values[nextIndex] : lastValues[index % batch]
    }

    let (advantages, returns) = generalizedAdvantageEstimates(
      rewards: rewards, values: values, nextValues: nextValues, terminated: terminated,
      truncated: truncated, environmentCount: batch, gamma: configuration.gamma,
      lambda: configuration.gaeLambda)

    metrics.environmentSteps = transitions
    metrics.meanEpisodeReturn =
      metrics.episodesFinished > 0 ? finishedReturnSum / Double(metrics.episodesFinished) : nil
    metrics.meanEpisodeCost =
      metrics.episodesFinished > 0 ? finishedCostSum / Double(metrics.episodesFinished) : nil
    metrics.costMultiplier = Double(multiplier)
    metrics.explainedVariance = explainedVariance(predictions: values, targets: returns)
    metrics.outcomes = environment.drainEpisodeOutcomes()
    return PPORollout(
      observations: observations, policyActions: policyActions,
      logProbabilities: logProbabilities, values: values, advantages: advantages,
      returns: returns)
  }
}
