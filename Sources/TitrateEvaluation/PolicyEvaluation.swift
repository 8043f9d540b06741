import Dispatch
import Foundation
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
  // The environment writes each step into the arrays of `result`.
  var result = EnvironmentStep()
  result.observations = environment.reset(seed: seed)
  var evaluator: PolicyEvaluator?
  if case .learned(let network, let normalizer) = policy {
    evaluator = PolicyEvaluator(network: network, normalizer: normalizer)
  }
  var actions = [Float]()
  for step in 0..<maximumSteps {
    switch policy {
    case .learned:
      evaluator!.actions(
        observations: result.observations, count: environment.batchSize, into: &actions)
    case .baseline(let name):
      do {
        actions = try environment.baselineActions(named: name)
      } catch {
        throw EvaluationError.baseline(error)
      }
    }
    environment.step(actions: actions, into: &result)
    let ended = zip(result.terminated, result.truncated).map { $0 || $1 }
    if ended.contains(true) {
      guard !ended.contains(false) else { throw EvaluationError.episodesOutOfStep(step: step) }
      let table = environment.drainOutcomeTable()
      guard table.rowCount == environment.batchSize else {
        throw EvaluationError.noOutcomes(policy: policy.name)
      }
      return table
    }
  }
  throw EvaluationError.episodesOutOfStep(step: maximumSteps)
}

/// Evaluates `policies` on `patientCount` virtual patients, in batches of
/// at most `batchSize` built by `makeEnvironment`. Every policy runs on the
/// same patients: batch `k` is reset with a seed derived from `seed` and
/// `k` only.
///
/// With `threads` above 1, batches run concurrently, each worker with its
/// own environments; the tables are joined in batch order, so the result is
/// the same for any thread count. Callers should then give BLAS one thread.
///
/// - Returns: one outcome table per policy, in the order given.
public func evaluatePolicies(
  _ policies: [EvaluatedPolicy], patientCount: Int, batchSize: Int, seed: UInt64,
  threads: Int = 1,
  makeEnvironment: @escaping @Sendable (_ batchSize: Int) throws -> any DosingEnvironment
) throws -> [OutcomeTable] {
  precondition(patientCount > 0 && batchSize > 0, "patient count and batch size must be positive")
  precondition(threads >= 1, "threads must be at least 1, got \(threads)")
  let sizes = evaluationBatchSizes(patientCount: patientCount, batchSize: batchSize)
  let results = BatchResults(batchCount: sizes.count)
  let workerCount = min(threads, sizes.count)
  let evaluateBatches: @Sendable (Int) -> Void = { worker in
    var environment: (any DosingEnvironment)?
    for batch in stride(from: worker, to: sizes.count, by: workerCount) {
      do {
        if environment == nil || environment!.batchSize != sizes[batch] {
          environment = try makeEnvironment(sizes[batch])
        }
        let tables = try evaluateBatch(
          policies, batch: batch, seed: seed, environment: environment!)
        results.store(.success(tables), at: batch)
      } catch {
        results.store(.failure(error), at: batch)
        return
      }
    }
  }
  if workerCount == 1 {
    evaluateBatches(0)
  } else {
    DispatchQueue.concurrentPerform(iterations: workerCount, execute: evaluateBatches)
  }

  var tables: [OutcomeTable?] = Array(repeating: nil, count: policies.count)
  for batch in 0..<sizes.count {
    guard let outcome = results.outcome(at: batch) else { continue }
    let batchTables = try outcome.get()
    for (index, table) in batchTables.enumerated() {
      if tables[index] == nil {
        tables[index] = table
      } else {
        tables[index]!.append(contentsOf: table)
      }
    }
  }
  return tables.map { $0! }
}

/// Returns the sizes of the batches `evaluatePolicies` splits
/// `patientCount` patients into: full batches of `batchSize`, then the rest.
public func evaluationBatchSizes(patientCount: Int, batchSize: Int) -> [Int] {
  stride(from: 0, to: patientCount, by: batchSize).map { min(batchSize, patientCount - $0) }
}

/// Evaluates batch number `batch` of an `evaluatePolicies` run on its own:
/// every policy runs one episode on `environment`, reset with the batch's
/// seed (derived from `seed` and `batch` only). Gives the same tables as
/// that batch inside `evaluatePolicies`, so batches can be spread over
/// processes.
/// - Parameter environment: an environment built for the batch's size
///   (see `evaluationBatchSizes`) that records its outcome table.
/// - Returns: one outcome table per policy, in the order given.
public func evaluateBatch(
  _ policies: [EvaluatedPolicy], batch: Int, seed: UInt64, environment: any DosingEnvironment
) throws -> [OutcomeTable] {
  // NOTE: the seed depends on the batch number, so another batch size
  // draws other patients. Per-patient streams would remove that, but would
  // change every documented evaluation figure.
  var seedGenerator = Xoshiro256(seed: seed, stream: 0xE7A1_0000 + UInt64(batch))
  let batchSeed = seedGenerator.next()
  return try policies.map { policy in
    try evaluateEpisode(environment, policy: policy, seed: batchSeed)
  }
}

/// Results of concurrent evaluation work, stored by index under a lock.
public final class BatchResults: @unchecked Sendable {
  private var outcomes: [Result<[OutcomeTable], any Error>?]
  private let lock = NSLock()

  public init(batchCount: Int) { outcomes = Array(repeating: nil, count: batchCount) }

  public func store(_ outcome: Result<[OutcomeTable], any Error>, at batch: Int) {
    lock.lock()
    outcomes[batch] = outcome
    lock.unlock()
  }

  /// Returns the batch's result, or nil when its worker stopped at an
  /// earlier error.
  public func outcome(at batch: Int) -> Result<[OutcomeTable], any Error>? {
    lock.lock()
    defer { lock.unlock() }
    return outcomes[batch]
  }
}
