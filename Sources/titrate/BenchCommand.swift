import Dispatch
import Foundation
import TitrateEnvironments
import TitrateEvaluation
import TitrateFederation
import TitrateKernels
import TitrateLinearAlgebra
import TitratePolicy
import TitrateRL
import TitrateRandom

#if canImport(Glibc)
  import Glibc
#endif

/// `titrate bench`: evaluation and training throughput on this machine.
enum BenchCommand {
  static let usage =
    "titrate bench [--patients N,N,...] [--threads N] [--training-steps N] [--json]"

  static let options: [OptionSpecification] = [
    .init(
      name: "environment", valueName: "NAME|FILE", help: "environment to measure",
      defaultValue: "vancomycin"),
    .init(
      name: "environments-dir", valueName: "DIR", help: "folder of environment definitions",
      defaultValue: nil),
    .init(
      name: "population", valueName: "NAME", help: "site population of the virtual patients",
      defaultValue: "icu_arc"),
    .init(
      name: "patients", valueName: "N,N,...", help: "evaluation batch sizes to measure",
      defaultValue: "1000,10000,100000,1000000"),
    .init(
      name: "threads", valueName: "N",
      help:
        "threads, 1-64: evaluation splits the patients over this many workers (one BLAS thread each); training gives OpenBLAS this many threads",
      defaultValue: "1"),
    .init(
      name: "repeats", valueName: "N",
      help: "timed episodes per batch size (the median is reported), 1-100", defaultValue: "3"),
    .init(
      name: "training-steps", valueName: "N",
      help:
        "environment steps of the training measurement, rounded up to whole rollouts of 2048 steps per environment; 0 to skip",
      defaultValue: "65536"),
    .init(
      name: "training-envs", valueName: "N",
      help: "environments of the training measurement, 1-256 (SB3 comparison: 8)",
      defaultValue: "8"),
    .init(
      name: "json", valueName: nil, help: "print one JSON object per measurement", defaultValue: nil
    ),
  ]

  static func run(_ arguments: [String]) throws {
    guard
      let parsed = try parseCommandLine(
        command: "bench", arguments: arguments, usage: usage,
        summary:
          "Measure evaluation throughput (patient-decisions per second: policy forward pass plus environment step, for each batch size) and PPO training throughput (environment steps per second including the update), with peak resident memory.",
        options: options,
        details:
          "The policy is a freshly initialised 2x64 tanh network; timing does not depend on its weights. Reset (patient sampling and one matrix exponential per patient) is timed separately."
      )
    else { return }
    try parsed.checkPositionals(maximum: 0, usage: usage)
    let catalog = try EnvironmentCatalog(explicitDirectory: parsed.string("environments-dir"))
    // The glucose environment has its own step-rate measurement; its
    // default batch sizes are smaller because each patient keeps 3 h of
    // history.
    let glucoseSizes =
      parsed.explicitOptions.contains("patients")
      ? try parsed.list("patients")!.map { part -> Int in
        guard let size = Int(part), (1...1_000_000).contains(size) else {
          throw CommandError.usage("--patients '\(part)' is not a batch size in 1...1000000")
        }
        return size
      } : [1, 100, 1000, 10000]
    if try GlucoseBench.runIfGlucose(
      catalog, nameOrPath: try parsed.requiredString("environment"), sizes: glucoseSizes,
      repeats: try parsed.integer("repeats", in: 1...100), json: parsed.flag("json"))
    {
      return
    }
    let definition = try catalog.load(try parsed.requiredString("environment")).0
    let population = try parsed.requiredString("population")
    guard definition.populations[population] != nil else {
      throw CommandError.usage(
        "--population \(population) is unknown; known: \(definition.populationNames.joined(separator: ", "))"
      )
    }
    let trainingSteps = try parsed.integer("training-steps", in: 0...100_000_000)
    let trainingEnvironments = try parsed.integer("training-envs", in: 1...256)
    let sizes = try parsed.list("patients")!.map { part -> Int in
      guard let size = Int(part), (1...10_000_000).contains(size) else {
        throw CommandError.usage("--patients '\(part)' is not a batch size in 1...10000000")
      }
      return size
    }
    let threads = try parsed.integer("threads", in: 1...64)
    let repeats = try parsed.integer("repeats", in: 1...100)
    let json = parsed.flag("json")
    // Evaluation runs one worker per thread, each with one BLAS thread; the
    // training measurement gives OpenBLAS all threads.
    BLASThreads.set(1)

    if !json {
      print(
        "evaluation: \(population) patients, 2x64 tanh policy, \(threads) worker thread(s), median of \(repeats), \(KernelLevel.selected.rawValue) element-wise kernels"
      )
      if definition.bayesianEstimate != nil {
        print(
          "(the environment refits each patient's MAP estimate after every interval with levels, "
            + "which dominates its time; Docs/benchmarks.md measures a copy without the "
            + "bayesianEstimate section, as `make bench` does)")
      }
      print(
        "patients     reset (s)   episode (s)   policy (s)   environment (s)   patient-decisions/s   peak RSS (MiB)"
      )
    }
    for size in sizes {
      let result = try measureEvaluation(
        definition: definition, population: population, patients: size, repeats: repeats,
        workers: threads)
      if json {
        print(
          "{\"measurement\": \"evaluation\", \"patients\": \(size), \"threads\": \(threads), \"reset_seconds\": \(result.resetSeconds), \"episode_seconds\": \(result.episodeSeconds), \"patient_decisions_per_second\": \(result.decisionsPerSecond), \"policy_seconds\": \(result.policySeconds), \"environment_seconds\": \(result.environmentSeconds), \"peak_rss_mib\": \(peakResidentMebibytes())}"
        )
      } else {
        print(
          String(
            format: "%8d   %10.3f   %11.4f   %10.4f   %15.4f   %19.0f   %14.0f", size,
            result.resetSeconds, result.episodeSeconds, result.policySeconds,
            result.environmentSeconds, result.decisionsPerSecond, peakResidentMebibytes()))
      }
    }

    if trainingSteps > 0 {
      BLASThreads.set(threads)
      let environments = trainingEnvironments
      let result = try measureTraining(
        definition: definition, population: population, environments: environments,
        steps: trainingSteps)
      if json {
        print(
          "{\"measurement\": \"training\", \"environments\": \(environments), \"threads\": \(threads), \"steps\": \(result.steps), \"seconds\": \(result.seconds), \"steps_per_second\": \(result.stepsPerSecond), \"peak_rss_mib\": \(peakResidentMebibytes())}"
        )
      } else {
        print("")
        print(
          "training: PPO with the Stable-Baselines3 defaults (2048 steps per environment per rollout, minibatch 64, 10 epochs, lr 3e-4, gamma 0.99, GAE lambda 0.95, clip 0.2, 2x64 tanh), \(environments) environments"
        )
        print(
          String(
            format:
              "%d environment steps in %.2f s: %.0f steps/s including the PPO update; peak RSS %.0f MiB",
            result.steps, result.seconds, result.stepsPerSecond, peakResidentMebibytes()))
      }
    }
  }

  struct EvaluationResult {
    var resetSeconds: Double
    var episodeSeconds: Double
    var decisionsPerSecond: Double
    /// Parts of the episode: normalisation plus policy forward pass, and
    /// environment steps.
    var policySeconds: Double
    var environmentSeconds: Double
  }

  /// One worker's share of the patients: its own environment, policy
  /// evaluator and buffers, stepped on its own thread.
  final class EvaluationShard: @unchecked Sendable {
    let environment: VancomycinEnvironment
    var evaluator: PolicyEvaluator
    /// The latest step, whose `observations` are the policy's next input.
    /// The environment writes each step into these arrays.
    var result = EnvironmentStep()
    var actions: [Float] = []
    var policySeconds = 0.0
    var finished = false

    init(environment: VancomycinEnvironment, evaluator: PolicyEvaluator) {
      self.environment = environment
      self.evaluator = evaluator
    }

    func step() {
      let policyStart = monotonicSeconds()
      evaluator.actions(
        observations: result.observations, count: environment.batchSize, into: &actions)
      policySeconds += monotonicSeconds() - policyStart
      environment.step(actions: actions, into: &result)
      finished = result.terminated[0] || result.truncated[0]
    }
  }

  /// Times episodes of `patients` patients split over `workers` threads
  /// (one BLAS thread each); with one worker, a single batch.
  static func measureEvaluation(
    definition: EnvironmentDefinition, population: String, patients: Int, repeats: Int,
    workers: Int
  ) throws -> EvaluationResult {
    var generator = Xoshiro256(seed: 7)
    let observationSize = VancomycinObservation.count(for: definition)
    let network = ActorCritic(
      observationSize: observationSize,
      actionSpace: .discrete(count: definition.dosing.doseLevelCount),
      hiddenSizes: [64, 64], generator: &generator)
    let shardCount = min(workers, patients)
    var shards: [EvaluationShard] = []
    for index in 0..<shardCount {
      let size = patients / shardCount + (index < patients % shardCount ? 1 : 0)
      let environment = try VancomycinEnvironment(
        definition: definition, populationName: population, batchSize: size,
        streamIdentifier: UInt64(index))
      // Each measured episode starts from an explicit reset (timed apart).
      environment.automaticallyResets = false
      var normalizer = RunningNormalizer(featureCount: observationSize)
      normalizer.update(observations: environment.reset(seed: 1), rows: size)
      shards.append(
        EvaluationShard(
          environment: environment,
          evaluator: PolicyEvaluator(network: network, normalizer: normalizer)))
    }
    let frozenShards = shards
    func forEachShard(_ body: @escaping @Sendable (EvaluationShard) -> Void) {
      if frozenShards.count == 1 {
        body(frozenShards[0])
      } else {
        DispatchQueue.concurrentPerform(iterations: frozenShards.count) { body(frozenShards[$0]) }
      }
    }

    var resets: [Double] = []
    var episodes: [Double] = []
    var policyParts: [Double] = []
    var environmentParts: [Double] = []
    for repeat_ in 0..<repeats {
      let resetStart = monotonicSeconds()
      forEachShard { shard in
        shard.result.observations = shard.environment.reset(seed: UInt64(repeat_ + 2))
        shard.policySeconds = 0
        shard.finished = false
      }
      resets.append(monotonicSeconds() - resetStart)
      let start = monotonicSeconds()
      while !frozenShards[0].finished {
        forEachShard { $0.step() }
      }
      let episode = monotonicSeconds() - start
      episodes.append(episode)
      // Worker 0's split stands for all workers (they run side by side).
      policyParts.append(frozenShards[0].policySeconds)
      environmentParts.append(episode - frozenShards[0].policySeconds)
    }
    let episode = quantile(episodes, 0.5)
    let decisions = patients * definition.dosing.decisionsPerEpisode
    return EvaluationResult(
      resetSeconds: quantile(resets, 0.5), episodeSeconds: episode,
      decisionsPerSecond: Double(decisions) / episode,
      policySeconds: quantile(policyParts, 0.5), environmentSeconds: quantile(environmentParts, 0.5)
    )
  }

  struct TrainingResult {
    var steps: Int
    var seconds: Double
    var stepsPerSecond: Double
  }

  static func measureTraining(
    definition: EnvironmentDefinition, population: String, environments: Int, steps: Int
  ) throws -> TrainingResult {
    var configuration = PPOConfiguration()
    configuration.stepsPerRollout = 2048
    configuration.minibatchSize = 64
    configuration.updateEpochs = 10
    configuration.learningRate = 3e-4
    configuration.annealLearningRate = false
    configuration.gamma = 0.99
    configuration.gaeLambda = 0.95
    configuration.clipRange = 0.2
    configuration.entropyCoefficient = 0
    configuration.valueCoefficient = 0.5
    configuration.maxGradientNorm = 0.5
    configuration.hiddenSizes = [64, 64]
    let environment = try VancomycinEnvironment(
      definition: definition, populationName: population, batchSize: environments)
    let learner = try PPOLearner(
      configuration: configuration, observationSize: environment.observationSize,
      actionSpace: environment.actionSpace, seed: 3)
    let perIteration = configuration.stepsPerRollout * environments
    let iterations = max(1, (steps + perIteration - 1) / perIteration)
    let start = monotonicSeconds()
    var done = 0
    for _ in 0..<iterations {
      done += learner.trainIteration(environment: environment).environmentSteps
    }
    let seconds = monotonicSeconds() - start
    return TrainingResult(steps: done, seconds: seconds, stepsPerSecond: Double(done) / seconds)
  }

  static func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
  }

  /// Peak resident set size of this process so far (getrusage ru_maxrss).
  static func peakResidentMebibytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
  }
}
