import TitrateEnvironments
import TitratePolicy
import TitrateRandom

/// A policy to evaluate: the learned network with the observation
/// statistics of the site it is run at, or one of the environment's named
/// baselines.
public enum EvaluatedPolicy: Sendable {
  case learned(network: ActorCritic, normalizer: RunningNormalizer?)
  case baseline(String)

  /// Name used in reports: `learned` or the baseline's name.
  public var name: String {
    switch self {
    case .learned: return "learned"
    case .baseline(let name): return name
    }
  }
}

/// Errors of an evaluation run.
public enum EvaluationError: Error, CustomStringConvertible {
  case baseline(BaselineError)
  case episodesOutOfStep(step: Int)
  case noOutcomes(policy: String)

  public var description: String {
    switch self {
    case .baseline(let error): return "\(error)"
    case .episodesOutOfStep(let step):
      return "environments of one batch ended their episodes at different steps (step \(step)); "
        + "the evaluation core needs lockstep episodes"
    case .noOutcomes(let policy):
      return "policy \(policy): the environment recorded no outcomes; enable its outcome table"
    }
  }
}

/// Runs one episode of every environment in the batch under `policy` and
/// returns the outcome table of those episodes.
///
/// The environment must record its outcome table and run its episodes in
/// lockstep (all end at the same step), as the dosing environments do. The
/// learned policy acts deterministically (most likely dose level), so the
/// result depends only on the environment's seed.
public func evaluateEpisode(
  _ environment: any DosingEnvironment, policy: EvaluatedPolicy, seed: UInt64,
  maximumSteps: Int = 100_000
) throws -> OutcomeTable {
  let resets = environment.automaticallyResets
  environment.automaticallyResets = false
  defer { environment.automaticallyResets = resets }
  _ = environment.drainOutcomeTable()
  var observations = environment.reset(seed: seed)
  var evaluator: PolicyEvaluator?
  if case .learned(let network, let normalizer) = policy {
    evaluator = PolicyEvaluator(network: network, normalizer: normalizer)
  }
  var actions = [Float]()
  for step in 0..<maximumSteps {
    switch policy {
    case .learned:
      evaluator!.actions(
        observations: observations, count: environment.batchSize, into: &actions)
    case .baseline(let name):
      do {
        actions = try environment.baselineActions(named: name)
      } catch {
        throw EvaluationError.baseline(error)
      }
    }
    let result = environment.step(actions: actions)
    let ended = zip(result.terminated, result.truncated).map { $0 || $1 }
    if ended.contains(true) {
      guard !ended.contains(false) else { throw EvaluationError.episodesOutOfStep(step: step) }
      let table = environment.drainOutcomeTable()
      guard table.rowCount == environment.batchSize else {
        throw EvaluationError.noOutcomes(policy: policy.name)
      }
      return table
    }
    observations = result.observations
  }
  throw EvaluationError.episodesOutOfStep(step: maximumSteps)
}

/// Evaluates `policies` on `patientCount` virtual patients, in batches of
/// at most `batchSize` built by `makeEnvironment`. Every policy runs on the
/// same patients: batch `k` is reset with a seed derived from `seed` and
/// `k` only.
///
/// - Returns: one outcome table per policy, in the order given.
public func evaluatePolicies(
  _ policies: [EvaluatedPolicy], patientCount: Int, batchSize: Int, seed: UInt64,
  makeEnvironment: (_ batchSize: Int) throws -> any DosingEnvironment
) throws -> [OutcomeTable] {
  precondition(patientCount > 0 && batchSize > 0, "patient count and batch size must be positive")
  var tables: [OutcomeTable?] = Array(repeating: nil, count: policies.count)
  var remaining = patientCount
  var batchIndex: UInt64 = 0
  var environment: (any DosingEnvironment)?
  while remaining > 0 {
    let size = min(batchSize, remaining)
    if environment == nil || environment!.batchSize != size {
      environment = try makeEnvironment(size)
    }
    var seedGenerator = Xoshiro256(seed: seed, stream: 0xE7A1_0000 + batchIndex)
    let batchSeed = seedGenerator.next()
    for (index, policy) in policies.enumerated() {
      let table = try evaluateEpisode(environment!, policy: policy, seed: batchSeed)
      if tables[index] == nil {
        tables[index] = table
      } else {
        tables[index]!.append(contentsOf: table)
      }
    }
    remaining -= size
    batchIndex += 1
  }
  return tables.map { $0! }
}
