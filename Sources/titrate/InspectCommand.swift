import Foundation
import TitrateCheckpoint
import TitrateFederation
import TitrateLinearAlgebra

/// `titrate inspect CHECKPOINT`: what a checkpoint holds.
enum InspectCommand {
  static let usage = "titrate inspect CHECKPOINT [--entries]"

  static let options: [OptionSpecification] = [
    .init(
      name: "entries", valueName: nil, help: "also list every stored entry with its type and shape",
      defaultValue: nil)
  ]

  static func run(_ arguments: [String]) throws {
    guard
      let parsed = try parseCommandLine(
        command: "inspect", arguments: arguments, usage: usage,
        summary:
          "Print a checkpoint's versions, environment and hash, training configuration, network, round and the last round's metrics. The file is fully validated first (header digest, HDF5 checksums, training layout).",
        options: options)
    else { return }
    try parsed.checkPositionals(maximum: 1, usage: usage)
    guard let path = parsed.positionals.first else {
      throw CommandError.usage("missing CHECKPOINT; usage: \(usage)")
    }
    let contents = try readCheckpoint(path)
    let policy = try loadTrainedPolicy(contents, path: path)
    let configuration = policy.configuration

    print("checkpoint \(path)")
    print(
      "  format version \(contents.formatVersion), written by titrate \(contents.programVersion) at \(contents.createdUTC)"
    )
    print(
      "  environment \(policy.environment.name), definition sha256 \(policy.environment.sha256)")
    if let cohort = policy.environment.cohort {
      print("  cohort file \(cohort.path), sha256 \(cohort.sha256)")
    }
    print(
      "  rounds completed \(policy.round) of \(configuration.rounds), seed \(configuration.seed)")
    print(
      "  OpenBLAS kernel \(policy.blasKernel ?? "not recorded"), this machine's \(BLASKernel.name)")
    print(
      "  sites: "
        + configuration.sites.map {
          "\($0.name) (population \($0.population), \($0.patientsPerBatch) patients)"
        }.joined(separator: ", "))
    if configuration.edgePatientFraction > 0 {
      print(
        "  edge patients: \(configuration.edgePatientFraction * 100)% of each site's training "
          + "patients from the definition's edgeCovariates")
    }
    if let constraint = configuration.costConstraint {
      print("  \(TrainCommand.constraintSummary(constraint))")
    }
    print(
      "  server optimiser \(configuration.serverOptimizer), local iterations \(configuration.localIterations), observation normalisation \(configuration.observationNormalization.rawValue)"
    )
    print("  \(TrainCommand.federationSummary(configuration))")
    if let privacy = configuration.privacy {
      // The trainer stores the epsilon of the last completed round, and
      // none before the first.
      if let spent = try? contents.requireScalar("privacy/epsilon") as Double {
        print(
          String(
            format: "  privacy spent: epsilon %.4f at delta %g after %d rounds", spent,
            privacy.delta, policy.round))
      } else if policy.round == 0 {
        print("  privacy spent: none, no round completed")
      } else {
        print("  privacy spent: not recorded in this checkpoint (no privacy/epsilon entry)")
      }
    }
    let ppo = configuration.ppo
    print(
      "  PPO: \(ppo.stepsPerRollout) steps per rollout, \(ppo.updateEpochs) epochs, minibatch \(ppo.minibatchSize), learning rate \(ppo.learningRate), gamma \(ppo.gamma), GAE lambda \(ppo.gaeLambda), clip \(ppo.clipRange), entropy \(ppo.entropyCoefficient)"
    )

    let network = policy.network
    let layers = network.policy.layers.map { "\($0.inputSize)x\($0.outputSize)" }.joined(
      separator: " -> ")
    print(
      "  policy network \(layers) (tanh hidden), \(network.actionSpace), \(network.parameterCount) parameters with the value network"
    )
    if let constraint = network.monotoneConstraint {
      let raising = constraint.inputs.filter { $0.direction == .raisesDose }.map { "\($0.index)" }
      let lowering = constraint.inputs.filter { $0.direction == .lowersDose }.map { "\($0.index)" }
      print(
        "  monotone policy (weights checked on load): the dose never falls as observation "
          + "entries [\(raising.joined(separator: ", "))] rise and never rises as entries "
          + "[\(lowering.joined(separator: ", "))] rise")
    }

    if let last = policy.history.last {
      let meanReturn = last.meanEpisodeReturn.map { String(format: "%.3f", $0) } ?? "-"
      // Vancomycin reports day-3 attainment; warfarin and propofol report
      // time in range.
      let inRange = last.outcomeMeans["ttrTrueDaily"] ?? last.outcomeMeans["timeInRange"]
      let measure =
        last.targetAttainment.map { String(format: "training target attainment %.3f", $0) }
        ?? inRange.map { String(format: "training time in range %.3f", $0) }
        ?? "training target attainment -"
      print(
        "  last round \(last.round): mean return \(meanReturn), \(measure), \(last.acceptedSites) accepted and \(last.rejectedSites) rejected updates"
      )
    }

    if parsed.flag("entries") {
      print("entries:")
      for entryPath in contents.paths {
        print("  /\(entryPath)  \(describe(contents[entryPath]!))")
      }
    }
  }

  static func describe(_ value: CheckpointValue) -> String {
    switch value {
    case .float32(let array): return "float32 \(array.shape)"
    case .float64(let array): return "float64 \(array.shape)"
    case .int64(let array): return "int64 \(array.shape)"
    case .uint64(let array): return "uint64 \(array.shape)"
    case .string(let text): return "string (\(text.utf8.count) bytes)"
    case .strings(let texts): return "strings [\(texts.count)]"
    }
  }
}
