import Foundation
import TitrateEnvironments
import TitrateEvaluation
import TitrateFederation
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
    .init(name: "threads", valueName: "N", help: "OpenBLAS threads, 1-64", defaultValue: "1"),
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
    BLASThreads.set(threads)

    if !json {
      print(
        "evaluation: \(population) patients, 2x64 tanh policy, \(threads) BLAS thread(s), median of \(repeats)"
      )
      print(
        "patients     reset (s)   episode (s)   policy (s)   environment (s)   patient-decisions/s   peak RSS (MiB)"
      )
    }
    for size in sizes {
      let result = try measureEvaluation(
        definition: definition, population: population, patients: size, repeats: repeats)
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

  static func measureEvaluation(
    definition: EnvironmentDefinition, population: String, patients: Int, repeats: Int
  ) throws -> EvaluationResult {
    let environment = try VancomycinEnvironment(
      definition: definition, populationName: population, batchSize: patients)
    // Each measured episode starts from an explicit reset (timed apart).
    environment.automaticallyResets = false
    var generator = Xoshiro256(seed: 7)
    let network = ActorCritic(
      observationSize: environment.observationSize, actionSpace: environment.actionSpace,
      hiddenSizes: [64, 64], generator: &generator)
    var normalizer = RunningNormalizer(featureCount: environment.observationSize)
    normalizer.update(observations: environment.reset(seed: 1), rows: patients)
    var evaluator = PolicyEvaluator(network: network, normalizer: normalizer)
    var actions = [Float]()
    var resets: [Double] = []
    var episodes: [Double] = []
    var policyParts: [Double] = []
    var environmentParts: [Double] = []
    var decisions = 0
    for repeat_ in 0..<repeats {
      let resetStart = monotonicSeconds()
      var observations = environment.reset(seed: UInt64(repeat_ + 2))
      resets.append(monotonicSeconds() - resetStart)
      let start = monotonicSeconds()
      decisions = 0
      var policySeconds = 0.0
      while true {
        let policyStart = monotonicSeconds()
        evaluator.actions(observations: observations, count: patients, into: &actions)
        policySeconds += monotonicSeconds() - policyStart
        let step = environment.step(actions: actions)
        decisions += patients
        if step.terminated[0] || step.truncated[0] { break }
        observations = step.observations
      }
      let episode = monotonicSeconds() - start
      episodes.append(episode)
      policyParts.append(policySeconds)
      environmentParts.append(episode - policySeconds)
    }
    let episode = quantile(episodes, 0.5)
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
