import TitratePolicy
import TitrateRL

// Binary layouts of the messages between the aggregator and its sites.
// Arrays travel as raw bits, so every value arrives unchanged; the small
// site report travels as JSON.

extension TransportWriter {
  mutating func append(_ request: SiteTrainingRequest) {
    append(request.round)
    append(request.siteIndices)
    append(request.globalParameters)
    append(request.normalizer)
    append(request.costMultipliers)
  }

  mutating func append(_ result: SiteTrainingResult) throws {
    let update = result.update
    append(update.siteName)
    append(update.round)
    append(update.delta)
    append(update.sampleCount)
    append(update.observationStatistics != nil)
    if let statistics = update.observationStatistics { append(statistics) }
    append(update.weightFactor != nil)
    if let factor = update.weightFactor { append(factor) }
    try appendJSON(result.record)
  }

  mutating func append(_ state: PPOLearnerState) {
    append(state.parameters)
    append(state.optimizer.firstMoment)
    append(state.optimizer.secondMoment)
    append(state.optimizer.step)
    append(state.normalizer)
    append(state.generator)
    append(state.completedIterations)
    append(state.currentObservations != nil)
    if let observations = state.currentObservations { append(observations) }
    append(state.runningReturns)
    append(state.runningCosts)
    append(state.costMultiplier)
  }

  mutating func append(_ state: RunningNormalizer.State) {
    append(state.mean)
    append(state.variance)
    append(state.count)
  }
}

extension TransportReader {
  mutating func readRequest() throws -> SiteTrainingRequest {
    SiteTrainingRequest(
      round: try readInt(), siteIndices: try readInts(), globalParameters: try readFloats(),
      normalizer: try readNormalizer(), costMultipliers: try readFloats())
  }

  mutating func readResult() throws -> SiteTrainingResult {
    let siteName = try readString()
    let round = try readInt()
    let delta = try readDoubles()
    let sampleCount = try readInt()
    let statistics = try readBool() ? try readNormalizer() : nil
    var update = ModelUpdate(
      siteName: siteName, round: round, delta: delta, sampleCount: sampleCount,
      observationStatistics: statistics)
    update.weightFactor = try readBool() ? try readDouble() : nil
    return SiteTrainingResult(update: update, record: try readJSON(SiteRoundRecord.self))
  }

  mutating func readLearnerState() throws -> PPOLearnerState {
    let parameters = try readFloats()
    let optimizer = AdamState(
      firstMoment: try readFloats(), secondMoment: try readFloats(), step: try readInt())
    let normalizer = try readNormalizer()
    let generator = try readUInt64s()
    let completedIterations = try readInt()
    let observations = try readBool() ? try readFloats() : nil
    return PPOLearnerState(
      parameters: parameters, optimizer: optimizer, normalizer: normalizer,
      generator: generator, completedIterations: completedIterations,
      currentObservations: observations, runningReturns: try readDoubles(),
      runningCosts: try readDoubles(), costMultiplier: try readFloat())
  }

  mutating func readNormalizer() throws -> RunningNormalizer.State {
    RunningNormalizer.State(
      mean: try readDoubles(), variance: try readDoubles(), count: try readDouble())
  }
}
