import Foundation
import TitrateCheckpoint
import TitrateEnvironments
import TitrateFederation
import TitrateLinearAlgebra
import TitratePolicy
import TitrateRL

/// `titrate train`: federated PPO across simulated sites.
enum TrainCommand {
  static let usage =
    "titrate train [--environment NAME] [--sites N] [--rounds N] [--output FILE] [options]"

  static let options: [OptionSpecification] = [
    .init(
      name: "environment", valueName: "NAME|FILE",
      help: "environment name under Environments/ or a .json path", defaultValue: "vancomycin"),
    .init(
      name: "environments-dir", valueName: "DIR", help: "folder of environment definitions",
      defaultValue: nil),
    .init(
      name: "sites", valueName: "N", help: "number of simulated sites, 1-64", defaultValue: "4"),
    .init(
      name: "populations", valueName: "A,B,...",
      help: "site populations in order (default: the definition's populations, cycled)",
      defaultValue: nil),
    .init(
      name: "patients-per-site", valueName: "N",
      help: "virtual patients each site steps together, 1-1000000", defaultValue: "512"),
    .init(name: "rounds", valueName: "N", help: "federated rounds, 1-100000", defaultValue: "1000"),
    .init(
      name: "local-iterations", valueName: "N",
      help: "PPO iterations (rollout + update) per site per round, 1-1000", defaultValue: "1"),
    .init(
      name: "steps-per-rollout", valueName: "N",
      help: "decisions per environment per rollout, 1-100000", defaultValue: "6"),
    .init(
      name: "update-epochs", valueName: "N", help: "PPO epochs over each rollout, 1-1000",
      defaultValue: "8"),
    .init(
      name: "minibatch-size", valueName: "N", help: "transitions per PPO minibatch, 1-10000000",
      defaultValue: "512"),
    .init(
      name: "learning-rate", valueName: "RATE", help: "local Adam step size, 1e-7-1",
      defaultValue: "0.001"),
    .init(
      name: "entropy-coefficient", valueName: "C", help: "entropy bonus weight, 0-1",
      defaultValue: "0.003"),
    .init(
      name: "gamma", valueName: "G", help: "discount factor per decision, 0-1", defaultValue: "1"),
    .init(
      name: "action-mode", valueName: "levels|milligrams",
      help: "dose levels with a categorical policy, or mg with a Gaussian policy",
      defaultValue: "levels"),
    .init(
      name: "hidden-sizes", valueName: "A,B", help: "tanh hidden layer widths of both networks",
      defaultValue: "64,64"),
    .init(
      name: "site-update", valueName: "delta|gradient",
      help:
        "sites send model deltas after --local-iterations (FedAvg) or one policy gradient "
        + "(FedSGD; needs --server-learning-rate)",
      defaultValue: "delta"),
    .init(
      name: "server-optimizer", valueName: "sgd|adam",
      help: "how the aggregator applies the averaged delta", defaultValue: "sgd"),
    .init(
      name: "server-learning-rate", valueName: "RATE",
      help: "server step size (1 with sgd is plain FedAvg)", defaultValue: "1"),
    .init(
      name: "normalization", valueName: "federated|per-site",
      help: "observation statistics shared through the aggregator, or kept at each site",
      defaultValue: "federated"),
    .init(
      name: "cost-limit", valueName: "C",
      help:
        "constrain the expected safety cost per episode to C with a Lagrange multiplier "
        + "(vancomycin: the fraction of patients with a true trough above 20 mg/L or left "
        + "untreated), 0-1000",
      defaultValue: nil),
    .init(
      name: "multiplier-learning-rate", valueName: "RATE",
      help: "step of the Lagrange multiplier per unit of cost above the limit, with --cost-limit",
      defaultValue: "0.05"),
    .init(
      name: "maximum-multiplier", valueName: "M",
      help: "upper bound of the Lagrange multiplier, with --cost-limit", defaultValue: "100"),
    .init(
      name: "monotone-policy", valueName: nil,
      help:
        "constrain the policy so that its dose never rises with a higher creatinine, measured "
        + "level or predicted exposure, nor falls with a higher clearance (vancomycin)",
      defaultValue: nil),
    .init(
      name: "cohort", valueName: "SITE=FILE,...",
      help:
        "train a site on its own CSV cohort of covariates (columns in Docs/cli.md); only the "
        + "file's SHA-256 enters the checkpoint, and --resume needs the same file",
      defaultValue: nil),
    .init(
      name: "log-cost-error", valueName: nil,
      help:
        "step the multiplier from ln(cost / limit), the cost floored at a tenth of the limit, "
        + "instead of cost - limit, so that it drains as fast as it fills; the gains are then "
        + "per unit of log ratio, with --cost-limit",
      defaultValue: nil),
    .init(
      name: "edge-patients", valueName: "FRACTION",
      help:
        "draw this fraction of every site's training patients from the definition's "
        + "edgeCovariates (renal failure, extreme weight and age) instead of the site's "
        + "population, 0-0.5 (vancomycin); evaluation uses the populations alone",
      defaultValue: "0"),
    .init(
      name: "per-site-limit", valueName: nil,
      help:
        "hold every site to --cost-limit with its own multiplier, instead of the pooled cost "
        + "of all sites",
      defaultValue: nil),
    .init(
      name: "weight-by-multiplier", valueName: nil,
      help:
        "weight each site's update by its sample count times 1 + its multiplier, so that the "
        + "average follows the federated Lagrangian, with --per-site-limit (fedavg only)",
      defaultValue: nil),
    .init(
      name: "advantage-scaled-weights", valueName: nil,
      help:
        "with --weight-by-multiplier, also scale each site's weight by the standard deviation "
        + "of its shaped advantages before standardisation",
      defaultValue: nil),
    .init(
      name: "greedy-cost-without-edge-patients", valueName: nil,
      help:
        "measure the greedy-policy cost on each site's own population, leaving out the edge "
        + "patients of --edge-patients, with --constrain-greedy-policy",
      defaultValue: nil),
    .init(
      name: "constrain-greedy-policy", valueName: nil,
      help:
        "step the multiplier from the cost of one extra episode per site and round dosed by "
        + "the policy's most likely action (what evaluate and verify measure), instead of "
        + "the training rollouts' sampled actions",
      defaultValue: nil),
    .init(
      name: "proportional-gain", valueName: "K",
      help: "PID Lagrangian proportional gain on the cost excess, with --cost-limit",
      defaultValue: "0"),
    .init(
      name: "derivative-gain", valueName: "K",
      help: "PID Lagrangian gain on rises of the measured cost, with --cost-limit",
      defaultValue: "0"),
    .init(
      name: "seed", valueName: "N", help: "seed of every random stream, 0-9223372036854775807",
      defaultValue: "1"),
    .init(
      name: "threads", valueName: "N",
      help: "sites trained at once, 1-256; results do not depend on it, so --resume may change it",
      defaultValue: "2"),
    .init(
      name: "output", valueName: "FILE",
      help: "checkpoint to write (HDF5); its folder must exist", defaultValue: nil),
    .init(
      name: "overwrite", valueName: nil,
      help: "replace an existing --output file (not needed when it is the --resume file)",
      defaultValue: nil),
    .init(
      name: "checkpoint-every", valueName: "N",
      help: "also write the checkpoint every N rounds, 0 for only at the end", defaultValue: "10"),
    .init(
      name: "pause-after", valueName: "N",
      help: "stop after round N and write the checkpoint; continue later with --resume",
      defaultValue: nil),
    .init(
      name: "resume", valueName: "FILE",
      help: "continue the run stored in this checkpoint to its configured rounds", defaultValue: nil
    ),
    .init(
      name: "metrics", valueName: "FILE", help: "append one record per round (.csv or .jsonl)",
      defaultValue: nil),
    .init(name: "quiet", valueName: nil, help: "print only the final summary", defaultValue: nil),
    transportOption, mpiUpdatesOption,
    UpdateCompressionOptions.train,
  ]

  /// Runs `titrate train`, or another command that trains the same way
  /// with its own transport (`host`, as `titrate aggregator` does).
  static func run(_ arguments: [String], host: TrainingHost? = nil) throws {
    guard
      let parsed = try parseCommandLine(
        command: host?.command ?? "train", arguments: arguments, usage: host?.usage ?? usage,
        summary: host?.summary
          ?? "Train one dosing policy across simulated sites with federated PPO and save it as an HDF5 checkpoint.",
        options: trainOptions(host: host) + federationOptions + (host?.options ?? []),
        details:
          "Prints one line per round: round, mean episode return, day-3 target attainment per site and pooled, environment steps per second, rejected and dropped updates, and epsilon under differential privacy. Exits with code 4 when --dp-epsilon-budget stops the run (the checkpoint is written first)."
      )
    else { return }
    try parsed.checkPositionals(maximum: 0, usage: usage)
    let transport = try CommandTransport.parse(parsed)
    let catalog = try EnvironmentCatalog(explicitDirectory: parsed.string("environments-dir"))
    // Only rank 0 writes the checkpoint and the metrics, so only its node
    // needs the folders; the other ranks skip the file checks.
    guard
      let outputPath = transport.isRoot ? try parsed.outputPath("output") : parsed.string("output")
    else {
      throw CommandError.usage(
        "'titrate \(host?.command ?? "train")' needs '--output FILE' for the checkpoint")
    }
    let output = URL(fileURLWithPath: outputPath)
    let resuming = parsed.string("resume")
    let sameFileAsResume =
      resuming.map {
        URL(fileURLWithPath: $0).standardizedFileURL.path == output.standardizedFileURL.path
      } ?? false
    if transport.isRoot && FileManager.default.fileExists(atPath: outputPath)
      && !parsed.flag("overwrite") && !sameFileAsResume
    {
      throw CommandError.usage(
        "--output \(outputPath) exists; add --overwrite to replace it or choose another file")
    }
    if transport.isRoot { _ = try parsed.outputPath("metrics") }
    let quiet = parsed.flag("quiet")

    let trainer: FederatedTrainer
    let stored: StoredEnvironment
    var resumedKernel: String?
    var targetRounds = try parsed.integer("rounds", in: 1...100_000)
    if let resumePath = parsed.string("resume") {
      // The run's configuration comes from the checkpoint; options that
      // would change it are rejected rather than ignored.
      let allowed = Set<String>([
        "resume", "rounds", "output", "metrics", "checkpoint-every", "quiet", "environments-dir",
        "pause-after", "overwrite", "cohort", "transport", "update-compression", "mpi-updates",
        "threads",
      ]).union(host?.options.map(\.name) ?? [])
      if let conflicting = parsed.explicitOptions.subtracting(allowed).sorted().first {
        throw CommandError.usage(
          "--\(conflicting) cannot be combined with --resume: the run continues with the configuration stored in the checkpoint; start a new run to change it"
        )
      }
      let contents = try readCheckpoint(resumePath)
      let policy = try loadTrainedPolicy(contents, path: resumePath)
      stored = policy.environment
      let storedRounds = policy.configuration.rounds
      if !parsed.explicitOptions.contains("rounds") { targetRounds = storedRounds }
      guard targetRounds == storedRounds else {
        throw CommandError.usage(
          "--rounds \(targetRounds) differs from the \(storedRounds) rounds the checkpoint's run was configured for (its learning-rate schedule ends there); omit --rounds to finish the run, or start a new run"
        )
      }
      let factory: EnvironmentFactory
      if let environment = try PKPDEnvironment.decodeStored(stored, checkpointPath: resumePath) {
        factory = environment.environmentFactory
      } else {
        let definition = try decodeStoredDefinition(stored)
        let cohorts = try EvaluateCommand.cohortFiles(
          parsed, siteNames: policy.configuration.sites.map(\.name))
        try checkResumedCohorts(cohorts, configuration: policy.configuration)
        factory = environmentFactory(
          definition, mode: doseActionMode(for: policy.network.actionSpace), cohorts: cohorts,
          edgePatientFraction: policy.configuration.edgePatientFraction)
      }
      // Results do not depend on the thread count, so a resumed run may
      // change it. The checkpoint it writes records the new count.
      let threads =
        parsed.explicitOptions.contains("threads")
        ? try parsed.integer("threads", in: 1...256) : nil
      do {
        trainer = try FederatedTrainer.resume(
          from: contents, makeEnvironment: factory, threads: threads)
      } catch {
        throw CommandError.invalidInput("\(resumePath): \(error)")
      }
      resumedKernel = policy.blasKernel
    } else {
      let environmentArgument = try parsed.requiredString("environment")
      if let (environment, loaded) = try PKPDEnvironment.load(catalog, environmentArgument) {
        // Glucose has a population per age group, so it accepts --populations.
        let fixedOptions =
          environment.populationNames.count > 1
          ? [
            "cohort", "action-mode", "monotone-policy", "edge-patients",
            "greedy-cost-without-edge-patients",
          ]
          : [
            "cohort", "populations", "action-mode", "monotone-policy", "edge-patients",
            "greedy-cost-without-edge-patients",
          ]
        for option in fixedOptions where parsed.explicitOptions.contains(option) {
          throw CommandError.usage(
            "--\(option) does not apply to the \(environment.name) environment (its own "
              + "populations, action space and observations); remove it")
        }
        stored = loaded
        var configuration = try makeConfiguration(
          parsed, environmentName: environment.name,
          populationNames: environment.populationNames, rounds: targetRounds)
        // Sites restart their patients every round, so by default a rollout
        // spans one whole episode.
        if !parsed.explicitOptions.contains("steps-per-rollout") {
          configuration.ppo.stepsPerRollout = environment.decisionsPerEpisode
        }
        do {
          trainer = try FederatedTrainer(
            configuration: configuration, makeEnvironment: environment.environmentFactory)
        } catch let error as FederationError {
          throw CommandError.usage("\(error)")
        }
      } else {
        let (definition, loaded) = try catalog.load(environmentArgument)
        stored = loaded
        var configuration = try makeConfiguration(
          parsed, environmentName: definition.name, populationNames: definition.populationNames,
          rounds: targetRounds)
        let cohorts = try EvaluateCommand.cohortFiles(
          parsed, siteNames: configuration.sites.map(\.name))
        for index in configuration.sites.indices {
          configuration.sites[index].cohortSHA256 = cohorts[configuration.sites[index].name]?.sha256
        }
        if configuration.edgePatientFraction > 0 {
          guard definition.edgeCovariates != nil else {
            throw CommandError.usage(
              "--edge-patients \(configuration.edgePatientFraction): environment "
                + "\(definition.name) defines no edgeCovariates; add that section to its "
                + "definition or remove --edge-patients")
          }
          if let site = cohorts.keys.sorted().first {
            throw CommandError.usage(
              "--edge-patients replaces sampled covariates, but site \(site) trains on a "
                + "--cohort file; remove one of the two")
          }
        }
        let mode: DoseActionMode =
          try parsed.choice("action-mode", from: ["levels", "milligrams"]) == "levels"
          ? .discreteLevels : .continuousMilligrams
        if parsed.flag("monotone-policy") {
          let entries = VancomycinObservation.monotoneDoseEntries(
            observationSize: VancomycinObservation.count(for: definition))
          configuration.ppo.monotoneInputs =
            entries.raising.map { MonotoneInput(index: $0, direction: .raisesDose) }
            + entries.lowering.map { MonotoneInput(index: $0, direction: .lowersDose) }
        }
        do {
          trainer = try FederatedTrainer(
            configuration: configuration,
            makeEnvironment: environmentFactory(
              definition, mode: mode, cohorts: cohorts,
              edgePatientFraction: configuration.edgePatientFraction))
        } catch let error as FederationError {
          throw CommandError.usage("\(error)")
        }
      }
    }
    // The host's own options (the aggregator's keys and allow list) fail
    // before the run prints anything.
    try host?.check(parsed, trainer)
    if let resumePath = resuming {
      if !quiet {
        print("resuming \(resumePath) after round \(trainer.completedRounds) of \(targetRounds)")
      }
      if let stored = resumedKernel, stored != BLASKernel.name {
        printError(
          "titrate train: warning: \(resumePath) was trained with OpenBLAS's \(stored) kernel and "
            + "this machine uses \(BLASKernel.name), so the resumed rounds will not repeat bit "
            + "for bit those of an uninterrupted run; set OPENBLAS_CORETYPE=\(stored) to use the "
            + "same kernel, which keeps the first rounds equal (other differences between machines, "
            + "such as glibc's math routines, can still make later rounds drift)")
      }
    }
    guard targetRounds >= trainer.completedRounds else {
      throw CommandError.usage(
        "--rounds \(targetRounds) is below the \(trainer.completedRounds) rounds already in the checkpoint"
      )
    }
    if trainer.completedRounds == targetRounds {
      print(
        "the run in \(resuming ?? "") already completed its \(targetRounds) rounds; nothing to train"
      )
      return
    }
    let compression =
      host == nil
      ? try UpdateCompressionOptions.resolve(
        parsed, configuration: trainer.configuration, checkpointPath: resuming) : .none
    if !quiet { printConfiguration(trainer.configuration, environment: stored) }
    if transport.isRoot,
      let warning = secureNoiseClippingWarning(
        trainer.configuration, command: host?.command ?? "train")
    {
      printError(warning)
    }

    let metricsWriter =
      transport.isRoot
      ? try parsed.string("metrics").map {
        try MetricsWriter(
          path: $0, siteNames: trainer.siteNames, recordsTraffic: host != nil,
          recordsSiteConstraint: trainer.configuration.costConstraint?.perSite == true)
      } : nil
    let checkpointEvery = try parsed.integer("checkpoint-every", in: 0...100_000)
    let pauseAfter = try parsed.optionalInteger("pause-after", in: 1...100_000) ?? targetRounds
    if parsed.explicitOptions.contains("pause-after") {
      guard pauseAfter > trainer.completedRounds, pauseAfter < targetRounds else {
        let first = trainer.completedRounds + 1
        let choice =
          first <= targetRounds - 1
          ? "choose a round in \(first)...\(targetRounds - 1) or omit --pause-after"
          : "no round is left to pause after, so omit --pause-after (or raise --rounds)"
        throw CommandError.usage(
          "--pause-after \(pauseAfter) must lie after the \(trainer.completedRounds) rounds "
            + "already trained and before the run's last round \(targetRounds); \(choice)")
      }
    }
    let combining = try updateCombining(
      parsed, transport: transport, configuration: trainer.configuration)
    if case .mpi(let world) = transport {
      let sites = MPITransport(communicator: world)
      sites.updateCombining = combining
      do {
        try sites.verifySameRun(trainer)
        guard world.isRoot else {
          try sites.serveSites(trainer: trainer)
          return
        }
      } catch {
        throw CommandError.failure("--transport mpi: \(error)")
      }
      trainer.transport = sites
      if !quiet { print(mpiPlacementSummary(trainer, world: world)) }
    }
    try host?.attach(parsed, trainer, stored, quiet)
    if host == nil { UpdateCompressionOptions.install(compression, trainer, quiet: quiet) }
    let started = Date()
    let firstRound = trainer.completedRounds + 1
    while trainer.completedRounds < min(targetRounds, pauseAfter) {
      let record: RoundRecord
      do {
        record = try trainer.runRound()
      } catch let error as FederationError {
        if case .privacyBudgetExhausted = error {
          try writeCheckpoint(trainer, environment: stored, to: output)
          try finishTransport(trainer)
          printError("\(error)")
          printError("checkpoint written to \(output.path) after round \(trainer.completedRounds)")
          exitProcess(privacyBudgetExitCode, othersFinishing: true)
        }
        throw CommandError.failure("\(error)")
      }
      if !quiet { print(progressLine(record, totalRounds: targetRounds)) }
      for site in record.sites where !site.accepted {
        let what = site.status == .rejected ? "rejected update from" : "no update from"
        printError(
          "round \(record.round): \(what) site \(site.site): \(site.rejectionReason ?? "")")
      }
      if let secure = record.secureAggregation {
        // Sites whose update was accepted before they left the protocol;
        // the loop above has already named the others.
        let accepted = Set(record.sites.filter(\.accepted).map(\.site))
        for drop in secure.drops where accepted.contains(drop.site) {
          let outcome =
            secure.abortReason == nil && secure.includedSites.contains(drop.site)
            ? "its masked update is in the sum" : "the round was aborted"
          printError(
            "round \(record.round): site \(drop.site) dropped out at secure aggregation stage "
              + "\(drop.stage); \(outcome)")
        }
      }
      if let reason = record.skipReason {
        printError("round \(record.round) skipped, global model unchanged: \(reason)")
      }
      try metricsWriter?.append(record, traffic: host?.lastRoundTraffic())
      try host?.roundFinished(record, quiet)
      if checkpointEvery > 0 && record.round % checkpointEvery == 0
        && record.round < min(targetRounds, pauseAfter)
      {
        try writeCheckpoint(trainer, environment: stored, to: output)
      }
    }
    try writeCheckpoint(trainer, environment: stored, to: output)
    try finishTransport(trainer)
    let seconds = Date().timeIntervalSince(started)
    // A resumed run reports the rounds it trained, not the run's total.
    let trained = trainer.completedRounds - firstRound + 1
    let range = firstRound == 1 ? "" : " (rounds \(firstRound)-\(trainer.completedRounds))"
    print(
      String(
        format: "trained %d %@%@ in %.1f s; checkpoint written to %@", trained,
        trained == 1 ? "round" : "rounds", range, seconds, output.path))
  }

  static func makeConfiguration(
    _ parsed: ParsedOptions, environmentName: String, populationNames: [String], rounds: Int
  ) throws -> FederationConfiguration {
    var configuration = FederationConfiguration()
    configuration.environment = environmentName
    let siteCount = try parsed.integer("sites", in: 1...64)
    var populations = (0..<siteCount).map { populationNames[$0 % populationNames.count] }
    if let list = try parsed.list("populations") {
      populations = list
      guard populations.count == siteCount else {
        throw CommandError.usage(
          "--populations lists \(populations.count) populations but --sites is \(siteCount); give one population per site"
        )
      }
      for name in populations where !populationNames.contains(name) {
        throw CommandError.usage(
          "--populations: unknown population '\(name)'; known: \(populationNames.joined(separator: ", "))"
        )
      }
    }

    let patients = try parsed.integer("patients-per-site", in: 1...1_000_000)
    var counts: [String: Int] = [:]
    configuration.sites = populations.map { population in
      counts[population, default: 0] += 1
      let suffix = counts[population]! > 1 ? "_\(counts[population]!)" : ""
      return SiteConfiguration(
        name: population + suffix, population: population, patientsPerBatch: patients)
    }

    configuration.rounds = rounds
    configuration.localIterations = try parsed.integer("local-iterations", in: 1...1_000)
    configuration.threads = try parsed.integer("threads", in: 1...256)
    configuration.observationNormalization =
      try parsed.choice("normalization", from: ["federated", "per-site"]) == "federated"
      ? .federated : .perSite
    configuration.seed = UInt64(try parsed.integer("seed", in: 0...Int.max))
    if try parsed.choice("site-update", from: ["delta", "gradient"]) == "gradient" {
      configuration.siteUpdate = .gradient
      guard parsed.explicitOptions.contains("server-learning-rate") else {
        throw CommandError.usage(
          "--site-update gradient needs --server-learning-rate: the server takes the gradient "
            + "step, and the FedAvg default of 1 is far too large for it (try 0.001)")
      }
    }
    let serverRate = try parsed.double("server-learning-rate", in: 1e-6...100)
    switch try parsed.choice("server-optimizer", from: ["sgd", "adam"]) {
    case "adam":
      configuration.serverOptimizer = .adam(
        learningRate: serverRate, beta1: 0.9, beta2: 0.99, epsilon: 1e-3)
    default:
      configuration.serverOptimizer = .sgd(learningRate: serverRate)
    }

    try applyFederationOptions(parsed, to: &configuration)

    var ppo = PPOConfiguration()
    ppo.stepsPerRollout = try parsed.integer("steps-per-rollout", in: 1...100_000)
    ppo.updateEpochs = try parsed.integer("update-epochs", in: 1...1_000)
    ppo.minibatchSize = try parsed.integer("minibatch-size", in: 1...10_000_000)
    ppo.learningRate = Float(try parsed.double("learning-rate", in: 1e-7...1))
    ppo.entropyCoefficient = Float(try parsed.double("entropy-coefficient", in: 0...1))
    ppo.gamma = Float(try parsed.double("gamma", in: 0...1))
    ppo.iterations = rounds * configuration.localIterations
    let hidden = try parsed.list("hidden-sizes")!.map {
      part -> Int in
      guard let width = Int(part), (1...4096).contains(width) else {
        throw CommandError.usage(
          "--hidden-sizes '\(part)' is not a layer width in 1...4096; for example --hidden-sizes 64,64"
        )
      }
      return width
    }
    ppo.hiddenSizes = hidden
    configuration.ppo = ppo

    if let limit = try parsed.optionalDouble("cost-limit", in: 0...1000) {
      configuration.costConstraint = CostConstraint(
        // Adding 0 turns -0 into 0, which messages then print as 0.0.
        costLimit: limit + 0,
        multiplierLearningRate: try parsed.double("multiplier-learning-rate", in: 1e-6...1000),
        maximumMultiplier: try parsed.double("maximum-multiplier", in: 1e-3...1e6),
        proportionalGain: try parsed.double("proportional-gain", in: 0...1e6),
        derivativeGain: try parsed.double("derivative-gain", in: 0...1e6),
        perSite: parsed.flag("per-site-limit"),
        onGreedyPolicy: parsed.flag("constrain-greedy-policy"),
        logScaleError: parsed.flag("log-cost-error"),
        weightUpdatesByMultiplier: parsed.flag("weight-by-multiplier"),
        greedyCostWithoutEdgePatients: parsed.flag("greedy-cost-without-edge-patients"),
        scaleWeightsByAdvantageSpread: parsed.flag("advantage-scaled-weights"))
    } else {
      for dependent in [
        "multiplier-learning-rate", "maximum-multiplier", "proportional-gain", "derivative-gain",
        "per-site-limit", "constrain-greedy-policy", "log-cost-error", "weight-by-multiplier",
        "greedy-cost-without-edge-patients", "advantage-scaled-weights",
      ]
      where parsed.explicitOptions.contains(dependent) {
        throw CommandError.usage(
          "--\(dependent) only applies to a constrained run; add --cost-limit C or remove it")
      }
    }
    // Read here so that the checks below see it; the vancomycin branch
    // checks the definition's edge covariates.
    configuration.edgePatientFraction = try parsed.double("edge-patients", in: 0...0.5)

    let problems = configuration.problems()
    guard problems.isEmpty else {
      throw CommandError.usage(
        "invalid training configuration:\n  " + problems.joined(separator: "\n  "))
    }
    // A network aggregator has no --update-compression, because its sites
    // choose their own encodings.
    if parsed.string("update-compression") != nil {
      configuration.updateCompression = try UpdateCompressionOptions.parse(
        parsed, configuration: configuration)
    }
    return configuration
  }

  static func environmentFactory(
    _ definition: EnvironmentDefinition, mode: DoseActionMode,
    cohorts: [String: PatientCohort] = [:], edgePatientFraction: Double = 0
  ) -> EnvironmentFactory {
    { site, index in
      try VancomycinEnvironment(
        definition: definition, populationName: site.population, batchSize: site.patientsPerBatch,
        streamIdentifier: UInt64(index) + 1, actionMode: mode, cohort: cohorts[site.name],
        edgePatientFraction: edgePatientFraction)
    }
  }

  /// Checks that the `--cohort` files of a resumed run are the ones its
  /// sites trained on: every site with a stored hash needs its file, with
  /// the same SHA-256, and no other site may get one.
  static func checkResumedCohorts(
    _ cohorts: [String: PatientCohort], configuration: FederationConfiguration
  ) throws {
    for site in configuration.sites {
      switch (site.cohortSHA256, cohorts[site.name]) {
      case (nil, nil): continue
      case (let stored?, nil):
        throw CommandError.usage(
          "site \(site.name) trained on its own cohort (SHA-256 \(stored.prefix(12))...); pass "
            + "the same file again with --cohort \(site.name)=FILE")
      case (nil, .some):
        throw CommandError.usage(
          "--cohort \(site.name): the run's site \(site.name) trained on its population's "
            + "distributions; remove its --cohort entry")
      case (let stored?, let cohort?):
        guard stored == cohort.sha256 else {
          throw CommandError.invalidInput(
            "--cohort \(site.name): the file's SHA-256 \(cohort.sha256.prefix(12))... differs "
              + "from the \(stored.prefix(12))... the run trained on; pass the original file")
        }
      }
    }
  }

  static func printConfiguration(
    _ configuration: FederationConfiguration, environment: StoredEnvironment
  ) {
    let sites = configuration.sites.map { "\($0.name) (\($0.patientsPerBatch) patients)" }.joined(
      separator: ", ")
    print(
      "environment \(environment.name) (sha256 \(environment.sha256.prefix(12))); sites: \(sites)")
    print(
      "rounds \(configuration.rounds), local iterations \(configuration.localIterations), server \(configuration.serverOptimizer), seed \(configuration.seed), threads \(configuration.threads)"
    )
    print(federationSummary(configuration))
    if configuration.edgePatientFraction > 0 {
      print(
        "edge patients: \(configuration.edgePatientFraction * 100)% of each site's training "
          + "patients drawn from the definition's edgeCovariates")
    }
    if let constraint = configuration.costConstraint {
      print(constraintSummary(constraint))
    }
  }

  /// Describes a cost constraint in one line, for the start of `train` and
  /// for `inspect`.
  static func constraintSummary(_ constraint: CostConstraint) -> String {
    var limit = "cost limit \(constraint.costLimit) per episode"
    if constraint.perSite { limit += " at every site" }
    if constraint.onGreedyPolicy {
      limit += " of the greedy policy"
      if constraint.greedyCostWithoutEdgePatients { limit += " without edge patients" }
    }
    let error = constraint.logScaleError ? "ln(cost / limit)" : "cost - limit"
    var gains = "K_I \(constraint.multiplierLearningRate), K_P \(constraint.proportionalGain)"
    if constraint.derivativeGain > 0 { gains += ", K_D \(constraint.derivativeGain)" }
    var parts = [
      limit,
      "Lagrange multiplier from \(constraint.initialMultiplier), at most "
        + "\(constraint.maximumMultiplier), \(gains) on \(error)",
    ]
    if constraint.weightUpdatesByMultiplier {
      parts.append(
        constraint.scaleWeightsByAdvantageSpread
          ? "updates weighted by (1 + multiplier) x advantage spread"
          : "updates weighted by 1 + multiplier")
    }
    return parts.joined(separator: "; ")
  }

  /// Formats the multipliers the round used: one value, one per site, or
  /// nothing without a cost constraint.
  static func multiplierText(_ record: RoundRecord) -> String {
    // Under --constrain-greedy-policy the multiplier follows this cost.
    let greedy = record.greedyEpisodeCost.map { String(format: "  greedy cost %.3f", $0) } ?? ""
    return greedy + multiplierValues(record)
  }

  static func multiplierValues(_ record: RoundRecord) -> String {
    if let value = record.costMultiplier { return String(format: "  lambda %.3f", value) }
    let perSite = record.sites.compactMap(\.costMultiplier)
    guard perSite.count == record.sites.count, !perSite.isEmpty else { return "" }
    return "  lambda [" + perSite.map { String(format: "%.2f", $0) }.joined(separator: " ") + "]"
  }

  static func progressLine(_ record: RoundRecord, totalRounds: Int) -> String {
    func format(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
    // The other environments have no day-3 target, so their line shows the
    // pooled time in range and the time beyond the safety threshold. Both
    // read "-" in a round whose rollouts ended no episode.
    let inRange = record.outcomeMeans["ttrTrueDaily"] ?? record.outcomeMeans["timeInRange"]
    if record.targetAttainment == nil, record.outcomeMeans["anyTroughAboveLimit"] == nil {
      let unsafe =
        record.outcomeMeans["timeAboveBleedingThresholdTrueDaily"]
        ?? record.outcomeMeans["timeBelowRange"]
      return String(
        format:
          "round %d/%d  return %@  time in range %@  time unsafe %@  cost %@%@  steps/s %.0f  rejected %d%@",
        record.round, totalRounds, format(record.meanEpisodeReturn), format(inRange),
        format(unsafe), format(record.meanEpisodeCost), multiplierText(record),
        record.stepsPerSecond, record.rejectedSites, roundEvents(record))
    }
    let perSite = record.sites.map { "\($0.site) \(format($0.targetAttainment))" }.joined(
      separator: ", ")
    // The linear kind counts dosing cycles: the share in target and the
    // share with a true trough at or above the toxic level.
    if record.outcomeMeans["anyTroughAboveLimit"] == nil {
      return String(
        format:
          "round %d/%d  return %@  cycles in target %@ [%@]  toxic troughs %@  cost %@%@  steps/s %.0f  rejected %d%@",
        record.round, totalRounds, format(record.meanEpisodeReturn),
        format(record.targetAttainment), perSite, format(record.outcomeMeans["toxicTrough"]),
        format(record.meanEpisodeCost), multiplierText(record), record.stepsPerSecond,
        record.rejectedSites, roundEvents(record))
    }
    return String(
      format:
        "round %d/%d  return %@  attainment %@ [%@]  trough>20 %@  cost %@%@  steps/s %.0f  rejected %d%@",
      record.round, totalRounds, format(record.meanEpisodeReturn), format(record.targetAttainment),
      perSite, format(record.outcomeMeans["anyTroughAboveLimit"]), format(record.meanEpisodeCost),
      multiplierText(record), record.stepsPerSecond,
      record.rejectedSites, roundEvents(record))
  }

  /// Formats dropped sites, a skipped round and the privacy loss, when any.
  static func roundEvents(_ record: RoundRecord) -> String {
    ((record.droppedSites ?? 0) > 0 ? "  dropped \(record.droppedSites!)" : "")
      + (record.skipReason == nil ? "" : "  skipped")
      + (record.privacyEpsilon.map { String(format: "  epsilon %.3f", $0) } ?? "")
  }

  static func writeCheckpoint(
    _ trainer: FederatedTrainer, environment: StoredEnvironment, to url: URL
  ) throws {
    do {
      // Sites trained on other ranks send their learner state first.
      try trainer.transport.collectSiteStates(into: trainer)
      let contents = try trainer.checkpointContents(
        environment: environment, programVersion: titrateVersion)
      try CheckpointFile.write(contents, to: url)
    } catch {
      throw CommandError.failure("could not write checkpoint \(url.path): \(error)")
    }
  }
}

/// Reads a checkpoint file, turning its errors into input errors.
func readCheckpoint(_ path: String) throws -> CheckpointContents {
  let url = URL(fileURLWithPath: path)
  if CheckpointFile.startsWithoutSeal(at: url) { try probeUnsealedCheckpoint(path) }
  do {
    return try CheckpointFile.read(from: url)
  } catch {
    throw CommandError.invalidInput("\(error)")
  }
}

/// Environment variable that makes `titrate` read the checkpoint it names
/// and exit: 0 when it reads, 3 when reading throws. Set only for the
/// child process of `probeUnsealedCheckpoint`.
let checkpointProbeVariable = "TITRATE_READ_CHECKPOINT_AND_EXIT"

/// Reads a checkpoint without a seal in a child process first. HDF5 1.10
/// can abort the process on some damaged files (a bad `free` while listing
/// links), and only the seal's digest catches that damage before HDF5
/// parses the file. A child that dies by a signal marks the file damaged.
func probeUnsealedCheckpoint(_ path: String) throws {
  let child = Process()
  child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
  child.arguments = []
  var environment = ProcessInfo.processInfo.environment
  environment[checkpointProbeVariable] = path
  child.environment = environment
  child.standardOutput = FileHandle.nullDevice
  child.standardError = FileHandle.nullDevice
  do {
    try child.run()
  } catch {
    // Without the child the file is read in this process, as before.
    return
  }
  child.waitUntilExit()
  if child.terminationReason == .uncaughtSignal {
    throw CommandError.invalidInput(
      "\(path): the file is damaged: HDF5 stopped with signal \(child.terminationStatus) while "
        + "reading it. It has no Titrate seal header, whose checksum would have rejected the "
        + "damage before HDF5 read it; restore the file from a good copy")
  }
}

/// Validates the training content of a checkpoint.
func loadTrainedPolicy(_ contents: CheckpointContents, path: String) throws -> TrainedPolicy {
  do {
    return try TrainedPolicy(contents: contents)
  } catch {
    throw CommandError.invalidInput("\(path): \(error)")
  }
}
