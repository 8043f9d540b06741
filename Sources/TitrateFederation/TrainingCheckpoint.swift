import Foundation
import TitrateCheckpoint
import TitrateEnvironments
import TitrateHashing
import TitrateLinearAlgebra
import TitratePolicy
import TitrateRL

/// Layout version of training checkpoints written by this program; see
/// Docs/checkpoint-format.md.
public let trainingCheckpointFormatVersion = 1

/// The environment definition a run trained on, stored verbatim with its
/// SHA-256 so that evaluation can prove it uses the same definition.
public struct StoredEnvironment: Sendable, Equatable {
  public var name: String
  /// The definition file's text, byte for byte.
  public var definitionJSON: String
  public var sha256: String { SHA256.hexDigest(of: definitionJSON) }
  /// The cohort file a linear-kind definition's `population.cohortFile`
  /// named at training time; nil when it names none, and in checkpoints
  /// written before Titrate stored it.
  public var cohort: CohortFileReference?

  public init(name: String, definitionJSON: String, cohort: CohortFileReference? = nil) {
    self.name = name
    self.definitionJSON = definitionJSON
    self.cohort = cohort
  }
}

/// Raised when a checkpoint's training content does not fit this program.
public struct TrainingCheckpointError: Error, CustomStringConvertible {
  public var reason: String
  public var description: String { reason }
}

/// Paths of the checkpoint entries; Docs/checkpoint-format.md lists them.
enum CheckpointPath {
  static let configuration = "configuration"
  static let environmentName = "environment/name"
  static let environmentDefinition = "environment/definition"
  static let environmentSHA256 = "environment/sha256"
  static let environmentCohortPath = "environment/cohort_path"
  static let environmentCohortSHA256 = "environment/cohort_sha256"
  static let round = "training/round"
  static let blasKernel = "training/blas_kernel"
  static let actionSpace = "training/action_space"
  static let history = "metrics/history_jsonl"
  static let serverStep = "optimizer/server/step"
  static let serverFirstMoment = "optimizer/server/first_moment"
  static let serverSecondMoment = "optimizer/server/second_moment"
  static let globalNormalizer = "normalizer/global"
  static let strategyRounds = "optimizer/strategy/rounds_applied"
  static let strategyFirstMoment = "optimizer/strategy/first_moment"
  static let strategySecondMoment = "optimizer/strategy/second_moment"
  static let privacyOrders = "privacy/rdp_orders"
  static let privacyTotals = "privacy/rdp_totals"
  static let privacyEpsilon = "privacy/epsilon"
  static let adaptiveClipNorm = "privacy/adaptive_clip_norm"
  static func staleDelta(_ site: String) -> String { "sites/\(site)/attack/stale_delta" }
  static func site(_ name: String) -> String { "sites/\(name)" }
}

extension FederatedTrainer {
  /// Captures everything needed to evaluate the global policy and to resume
  /// training exactly: configuration, environment definition and hash,
  /// global network tensors, server optimiser state, each site's Adam
  /// state, observation normaliser and generator, and the metrics history.
  public func checkpointContents(
    environment: StoredEnvironment, programVersion: String
  ) throws -> CheckpointContents {
    var contents = CheckpointContents(
      formatVersion: trainingCheckpointFormatVersion, programVersion: programVersion)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    contents.set(
      CheckpointPath.configuration,
      string: String(decoding: try encoder.encode(configuration), as: UTF8.self))
    contents.set(CheckpointPath.environmentName, string: environment.name)
    contents.set(CheckpointPath.environmentDefinition, string: environment.definitionJSON)
    contents.set(CheckpointPath.environmentSHA256, string: environment.sha256)
    if let cohort = environment.cohort {
      contents.set(CheckpointPath.environmentCohortPath, string: cohort.path)
      contents.set(CheckpointPath.environmentCohortSHA256, string: cohort.sha256)
    }
    contents.set(CheckpointPath.round, shape: [], values: [Int64(completedRounds)])
    contents.set(CheckpointPath.blasKernel, string: BLASKernel.name)
    if let costMultiplier {
      setMultiplier(costMultiplier, prefix: "training/lagrange", in: &contents)
    }
    for (site, multiplier) in zip(sites, siteCostMultipliers ?? []) {
      setMultiplier(
        multiplier, prefix: "\(CheckpointPath.site(site.configuration.name))/lagrange",
        in: &contents)
    }
    contents.set(
      CheckpointPath.actionSpace,
      string: String(decoding: try encoder.encode(actionSpace), as: UTF8.self))

    let network = globalNetwork()
    for tensor in network.namedTensors() {
      contents.set(tensor.name, shape: tensor.shape, values: tensor.values)
    }
    contents.set(CheckpointPath.serverStep, shape: [], values: [Int64(serverState.step)])
    contents.set(
      CheckpointPath.serverFirstMoment, shape: [serverState.firstMoment.count],
      values: serverState.firstMoment)
    contents.set(
      CheckpointPath.serverSecondMoment, shape: [serverState.secondMoment.count],
      values: serverState.secondMoment)

    setRoundState(in: &contents)
    setNormalizer(globalNormalizer, at: CheckpointPath.globalNormalizer, in: &contents)
    for site in sites {
      let prefix = CheckpointPath.site(site.configuration.name)
      let state = site.learner.state()
      contents.set(
        "\(prefix)/optimizer/first_moment", shape: [state.optimizer.firstMoment.count],
        values: state.optimizer.firstMoment)
      contents.set(
        "\(prefix)/optimizer/second_moment", shape: [state.optimizer.secondMoment.count],
        values: state.optimizer.secondMoment)
      contents.set("\(prefix)/optimizer/step", shape: [], values: [Int64(state.optimizer.step)])
      setNormalizer(state.normalizer, at: "\(prefix)/normalizer", in: &contents)
      contents.set("\(prefix)/rng/state", shape: [4], values: state.generator)
      contents.set(
        "\(prefix)/completed_iterations", shape: [], values: [Int64(state.completedIterations)])
    }

    let lineEncoder = JSONEncoder()
    lineEncoder.outputFormatting = [.sortedKeys]
    let lines = try history.map { String(decoding: try lineEncoder.encode($0), as: UTF8.self) }
    contents.set(CheckpointPath.history, string: lines.joined(separator: "\n"))
    for (name, values) in metricColumns() {
      contents.set("metrics/\(name)", shape: [values.count], values: values)
    }
    return contents
  }

  func setMultiplier(
    _ multiplier: LagrangeMultiplier, prefix: String, in contents: inout CheckpointContents
  ) {
    contents.set("\(prefix)/multiplier", shape: [], values: [multiplier.value])
    contents.set("\(prefix)/integral", shape: [], values: [multiplier.integral])
    if let previous = multiplier.previousCost {
      contents.set("\(prefix)/previous_cost", shape: [], values: [previous])
    }
  }

  /// Reads a multiplier stored by `setMultiplier`.
  static func readMultiplier(
    _ constraint: CostConstraint, prefix: String, from contents: CheckpointContents
  ) throws -> LagrangeMultiplier {
    let previousPath = "\(prefix)/previous_cost"
    let previousCost: Double? =
      contents[previousPath] == nil ? nil : try contents.requireScalar(previousPath) as Double
    do {
      return try LagrangeMultiplier(
        constraint: constraint,
        value: try contents.requireScalar("\(prefix)/multiplier") as Double,
        integral: try contents.requireScalar("\(prefix)/integral") as Double,
        previousCost: previousCost)
    } catch let error as LagrangeMultiplierStateError {
      throw TrainingCheckpointError(
        reason: "checkpoint entries '\(prefix)/*': \(error); the file is damaged")
    }
  }

  func setNormalizer(
    _ state: RunningNormalizer.State, at prefix: String, in contents: inout CheckpointContents
  ) {
    contents.set("\(prefix)/mean", shape: [state.mean.count], values: state.mean)
    contents.set("\(prefix)/variance", shape: [state.variance.count], values: state.variance)
    contents.set("\(prefix)/count", shape: [], values: [state.count])
  }

  /// Builds the global model as a network.
  public func globalNetwork() -> ActorCritic {
    var network = sites[0].learner.actorCritic
    network.setParameterVector(globalParameters)
    return network
  }

  /// Projects a flat parameter vector in the global model's order onto the
  /// policy's monotone constraint (an aggregate of feasible updates can
  /// leave the set, for example with noise or a server optimiser's step).
  func projectOntoMonotoneConstraint(_ parameters: inout [Float]) {
    guard sites[0].learner.actorCritic.monotoneConstraint != nil else { return }
    var network = sites[0].learner.actorCritic
    network.setParameterVector(parameters)
    network.projectOntoMonotoneConstraint()
    parameters = network.parameterVector()
  }

  /// Per-round metrics as columns (NaN where a round has no value), for
  /// readers such as h5py that do not want to parse JSON.
  func metricColumns() -> [(String, [Double])] {
    var columns: [(String, [Double])] = [
      ("round", history.map { Double($0.round) }),
      ("mean_return", history.map { $0.meanEpisodeReturn ?? .nan }),
      ("mean_cost", history.map { $0.meanEpisodeCost ?? .nan }),
      ("cost_multiplier", history.map { $0.costMultiplier ?? .nan }),
      ("target_attainment", history.map { $0.targetAttainment ?? .nan }),
      ("environment_steps", history.map { Double($0.environmentSteps) }),
      ("steps_per_second", history.map(\.stepsPerSecond)),
      ("accepted_sites", history.map { Double($0.acceptedSites) }),
      ("rejected_sites", history.map { Double($0.rejectedSites) }),
      ("sampled_sites", history.map { Double($0.sampledSites ?? $0.sites.count) }),
      ("dropped_sites", history.map { Double($0.droppedSites ?? 0) }),
      ("skipped", history.map { $0.skipReason == nil ? 0 : 1 }),
      ("privacy_epsilon", history.map { $0.privacyEpsilon ?? .nan }),
    ]
    for name in siteNames {
      columns.append(
        (
          "sites/\(name)/target_attainment",
          history.map { round in
            round.sites.first { $0.site == name }?.targetAttainment ?? .nan
          }
        ))
    }
    return columns
  }

  /// Rebuilds a trainer from a checkpoint so that the next round is the one
  /// an uninterrupted run would have run.
  ///
  /// - Parameter threads: sites trained at once from now on, 1...256, in
  ///   place of the stored count. The next checkpoint records it, and nil
  ///   keeps the stored count. Results do not depend on it.
  /// - Throws: `TrainingCheckpointError` or `CheckpointError` naming the
  ///   entry that is missing or does not fit.
  public static func resume(
    from contents: CheckpointContents, makeEnvironment: EnvironmentFactory, threads: Int? = nil
  ) throws -> FederatedTrainer {
    let stored = try TrainedPolicy(contents: contents)
    var configuration = stored.configuration
    if let threads { configuration.threads = threads }
    let trainer = try FederatedTrainer(
      configuration: configuration, makeEnvironment: makeEnvironment)
    guard trainer.observationSize == stored.network.observationSize,
      trainer.actionSpace == stored.network.actionSpace
    else {
      throw TrainingCheckpointError(
        reason:
          "checkpoint network expects \(stored.network.observationSize) observations and "
          + "\(stored.network.actionSpace), the environment provides \(trainer.observationSize) "
          + "and \(trainer.actionSpace); resume with the environment definition stored in the checkpoint"
      )
    }
    trainer.globalParameters = stored.network.parameterVector()
    let parameterCount = trainer.globalParameters.count
    trainer.serverState = ServerOptimizerState(
      step: Int(try contents.requireScalar(CheckpointPath.serverStep) as Int64),
      firstMoment: try contents.requireFloat64(
        CheckpointPath.serverFirstMoment, shape: [parameterCount]),
      secondMoment: try contents.requireFloat64(
        CheckpointPath.serverSecondMoment, shape: [parameterCount]))
    trainer.globalNormalizer = try stored.readNormalizer(
      at: CheckpointPath.globalNormalizer, featureCount: trainer.observationSize)
    trainer.completedRounds = stored.round
    trainer.history = stored.history
    try trainer.restoreRoundState(from: contents)
    if let constraint = stored.configuration.costConstraint {
      if constraint.perSite {
        trainer.siteCostMultipliers = try trainer.sites.map { site in
          try readMultiplier(
            constraint, prefix: "\(CheckpointPath.site(site.configuration.name))/lagrange",
            from: contents)
        }
      } else {
        trainer.costMultiplier = try readMultiplier(
          constraint, prefix: "training/lagrange", from: contents)
      }
    }

    for site in trainer.sites {
      let prefix = CheckpointPath.site(site.configuration.name)
      let featureCount = trainer.observationSize
      let optimizer = AdamState(
        firstMoment: try contents.requireFloat32(
          "\(prefix)/optimizer/first_moment", shape: [parameterCount]),
        secondMoment: try contents.requireFloat32(
          "\(prefix)/optimizer/second_moment", shape: [parameterCount]),
        step: Int(try contents.requireScalar("\(prefix)/optimizer/step") as Int64))
      let state = PPOLearnerState(
        parameters: trainer.globalParameters, optimizer: optimizer,
        normalizer: try stored.readNormalizer(
          at: "\(prefix)/normalizer", featureCount: featureCount),
        generator: try contents.requireUInt64("\(prefix)/rng/state", shape: [4]),
        completedIterations: Int(
          try contents.requireScalar("\(prefix)/completed_iterations") as Int64),
        currentObservations: nil, runningReturns: [])
      try site.learner.restore(state)
    }
    return trainer
  }
}

/// The parts of a checkpoint that evaluation needs: the global network, the
/// observation statistics, the configuration and the environment definition.
public struct TrainedPolicy {
  public var configuration: FederationConfiguration
  public var network: ActorCritic
  public var environment: StoredEnvironment
  public var round: Int
  public var history: [RoundRecord]
  public var programVersion: String
  /// The OpenBLAS kernel of the process that wrote the checkpoint. Under
  /// in-process training every site used it. Nil in older files.
  public var blasKernel: String?
  let contents: CheckpointContents

  /// Checks that the network takes the observation rows that this
  /// program's vancomycin environment writes for `definition`. A checkpoint
  /// written before a layout change (the care-setting entry, added in
  /// version 0.2.0) fails here with a message instead of a crash.
  /// - Throws: `TrainingCheckpointError` naming both widths and the fix.
  public func requireObservationLayout(of definition: EnvironmentDefinition) throws {
    let expected = VancomycinObservation.count(for: definition)
    guard network.observationSize == expected else {
      throw TrainingCheckpointError(
        reason:
          "the policy network takes \(network.observationSize) observation entries, but this "
          + "version of the vancomycin environment writes \(expected) per row (the checkpoint "
          + "was written by titrate \(programVersion) with an older layout); retrain the policy "
          + "with this version, or evaluate it with the version that wrote it")
    }
  }

  /// Reads and validates the training content of a checkpoint.
  public init(contents: CheckpointContents) throws {
    try contents.requireFormatVersion(
      supported: trainingCheckpointFormatVersion...trainingCheckpointFormatVersion)
    self.contents = contents
    programVersion = contents.programVersion
    let configurationText = try contents.requireString(CheckpointPath.configuration)
    do {
      configuration = try JSONDecoder().decode(
        FederationConfiguration.self, from: Data(configurationText.utf8))
    } catch {
      throw TrainingCheckpointError(
        reason: "checkpoint entry 'configuration' is not a valid training configuration: \(error)")
    }
    let problems = configuration.problems()
    guard problems.isEmpty else {
      throw TrainingCheckpointError(
        reason: "checkpoint entry 'configuration' is invalid: " + problems.joined(separator: "; "))
    }
    environment = StoredEnvironment(
      name: try contents.requireString(CheckpointPath.environmentName),
      definitionJSON: try contents.requireString(CheckpointPath.environmentDefinition))
    let storedHash = try contents.requireString(CheckpointPath.environmentSHA256)
    guard storedHash == environment.sha256 else {
      throw TrainingCheckpointError(
        reason:
          "checkpoint entry 'environment/sha256' is \(storedHash) but the stored definition "
          + "hashes to \(environment.sha256); the file was modified after it was written")
    }
    environment.cohort = try Self.readCohortReference(from: contents)
    let storedRound = try contents.requireScalar(CheckpointPath.round) as Int64
    guard storedRound >= 0, storedRound <= Int64(configuration.rounds) else {
      throw TrainingCheckpointError(
        reason:
          "checkpoint entry 'training/round' is \(storedRound), outside 0...\(configuration.rounds) "
          + "(the run's configured rounds); the file is damaged")
    }
    round = Int(storedRound)
    blasKernel =
      contents.paths.contains(CheckpointPath.blasKernel)
      ? try contents.requireString(CheckpointPath.blasKernel) : nil

    let policyPaths = contents.paths.filter { $0.hasPrefix("policy/") || $0.hasPrefix("value/") }
    var tensors: [NamedTensor] = []
    for path in policyPaths {
      guard case .float32(let array) = try contents.requireValue(path) else {
        throw TrainingCheckpointError(reason: "checkpoint entry '\(path)' is not float32")
      }
      if let bad = array.values.firstIndex(where: { !$0.isFinite }) {
        throw TrainingCheckpointError(
          reason:
            "checkpoint entry '\(path)' has the non-finite value \(array.values[bad]) at index "
            + "\(bad); a network with non-finite weights cannot dose, so the file is rejected")
      }
      tensors.append(NamedTensor(name: path, shape: array.shape, values: array.values))
    }
    guard let inputLayer = tensors.first(where: { $0.name == "policy/layer_0/weight" }),
      inputLayer.shape.count == 2
    else {
      throw TrainingCheckpointError(
        reason: "checkpoint has no 2-D 'policy/layer_0/weight'; it holds no policy network")
    }
    let observationSize = inputLayer.shape[1]
    // Check the configured widths against the stored tensors before any
    // network is built, so a damaged configuration cannot request a huge
    // allocation.
    let hiddenSizes = configuration.ppo.hiddenSizes
    for (index, width) in hiddenSizes.enumerated() {
      let weight = tensors.first { $0.name == "policy/layer_\(index)/weight" }
      guard let weight, weight.shape.count == 2, weight.shape[0] == width else {
        throw TrainingCheckpointError(
          reason:
            "checkpoint configuration lists hidden sizes \(hiddenSizes) but 'policy/layer_\(index)/weight' "
            + "has shape \(weight?.shape ?? []); the configuration and the network disagree")
      }
    }
    let actionSpaceText = try contents.requireString(CheckpointPath.actionSpace)
    let actionSpace: ActionSpace
    do {
      actionSpace = try JSONDecoder().decode(ActionSpace.self, from: Data(actionSpaceText.utf8))
    } catch {
      throw TrainingCheckpointError(
        reason:
          "checkpoint entry '\(CheckpointPath.actionSpace)' is not a valid action space: \(error)")
    }
    var monotoneConstraint: MonotoneConstraint?
    if !configuration.ppo.monotoneInputs.isEmpty {
      do {
        monotoneConstraint = try MonotoneConstraint(
          inputs: configuration.ppo.monotoneInputs, observationSize: observationSize,
          actionSpace: actionSpace)
      } catch {
        throw TrainingCheckpointError(
          reason: "checkpoint configuration ppo.monotoneInputs does not fit the network: \(error)")
      }
    }
    do {
      network = try ActorCritic(
        observationSize: observationSize, actionSpace: actionSpace,
        hiddenSizes: configuration.ppo.hiddenSizes, monotoneConstraint: monotoneConstraint,
        tensors: tensors)
    } catch {
      throw TrainingCheckpointError(reason: "checkpoint policy does not load: \(error)")
    }

    let historyText = try contents.requireString(CheckpointPath.history)
    do {
      history = try historyText.split(separator: "\n").map { line in
        try JSONDecoder().decode(RoundRecord.self, from: Data(line.utf8))
      }
    } catch {
      throw TrainingCheckpointError(
        reason: "checkpoint entry 'metrics/history_jsonl' is not a valid round history: \(error)")
    }
    guard history.count == round else {
      throw TrainingCheckpointError(
        reason:
          "checkpoint entry 'metrics/history_jsonl' has \(history.count) rounds but "
          + "'training/round' is \(round); the file is damaged")
    }
  }

  /// Returns the observation statistics the policy uses at `site`: the
  /// global ones under federated normalisation, the site's own otherwise.
  public func normalizerState(site: String) throws -> RunningNormalizer.State {
    switch configuration.observationNormalization {
    case .federated:
      return try readNormalizer(
        at: CheckpointPath.globalNormalizer, featureCount: network.observationSize)
    case .perSite:
      return try readNormalizer(
        at: "\(CheckpointPath.site(site))/normalizer", featureCount: network.observationSize)
    }
  }

  /// Builds the normaliser the policy uses at `site`, or returns nil when
  /// the run trained without observation normalisation.
  public func observationNormalizer(site: String) throws -> RunningNormalizer? {
    guard configuration.ppo.normalizeObservations else { return nil }
    var normalizer = RunningNormalizer(featureCount: network.observationSize)
    normalizer.restore(try normalizerState(site: site))
    return normalizer
  }

  /// Reads observation statistics and checks that they can normalise:
  /// finite means, finite non-negative variances and count.
  func readNormalizer(at prefix: String, featureCount: Int) throws -> RunningNormalizer.State {
    let state = RunningNormalizer.State(
      mean: try contents.requireFloat64("\(prefix)/mean", shape: [featureCount]),
      variance: try contents.requireFloat64("\(prefix)/variance", shape: [featureCount]),
      count: try contents.requireScalar("\(prefix)/count") as Double)
    if let bad = state.mean.first(where: { !$0.isFinite }) {
      throw TrainingCheckpointError(
        reason:
          "checkpoint entry '\(prefix)/mean' contains \(bad); observation means must be finite")
    }
    if let bad = state.variance.first(where: { !($0.isFinite && $0 >= 0) }) {
      throw TrainingCheckpointError(
        reason:
          "checkpoint entry '\(prefix)/variance' contains \(bad); variances must be finite and at least 0"
      )
    }
    guard state.count.isFinite, state.count >= 0 else {
      throw TrainingCheckpointError(
        reason:
          "checkpoint entry '\(prefix)/count' is \(state.count); it must be a finite count of at least 0"
      )
    }
    return state
  }
}
