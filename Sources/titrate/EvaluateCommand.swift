import Foundation
import TitrateEnvironments
import TitrateEvaluation
import TitrateFederation
import TitrateLinearAlgebra
import TitratePolicy

/// `titrate evaluate CHECKPOINT`: the learned policy and the baselines on
/// held-out virtual patients of every site, per site and pooled.
enum EvaluateCommand {
  static let usage = "titrate evaluate CHECKPOINT [--patients N] [--seed N] [--json]"

  static let options: [OptionSpecification] = [
    .init(
      name: "patients", valueName: "N", help: "held-out virtual patients per site, 1-10000000",
      defaultValue: "5000"),
    .init(
      name: "batch-size", valueName: "N",
      help:
        "patients simulated together, 1-1000000; each batch draws its patients from its own "
        + "stream, so the held-out cohort depends on the batch size as well as on --seed",
      defaultValue: "20000"),
    .init(
      name: "seed", valueName: "N",
      help: "seed of the held-out cohort (training never uses these streams)", defaultValue: "20201"
    ),
    .init(
      name: "baselines", valueName: "A,B",
      help:
        "baselines to run next to the policy (guideline, oracle, bayesian), or 'none'; the "
        + "default adds bayesian when the definition sets baselines.bayesian",
      defaultValue: "guideline,oracle"),
    .init(
      name: "bayesian-target-auc", valueName: "MG_H_PER_L",
      help:
        "target AUC24 of the bayesian (MAP-guided) baseline instead of the definition's "
        + "(default 500 when the definition has none), 100-1000",
      defaultValue: nil),
    .init(
      name: "bayesian-trough-limit", valueName: "MG_PER_L",
      help:
        "the bayesian baseline skips doses whose predicted next trough exceeds this, 1-100 "
        + "(default: the definition's, or no limit)",
      defaultValue: nil),
    .init(
      name: "threads", valueName: "N",
      help: "sites evaluated at once, 1-256; results do not depend on it", defaultValue: "2"),
    .init(
      name: "patients-csv", valueName: "FILE",
      help: "also write every patient's outcomes (one row per patient and policy) as CSV",
      defaultValue: nil),
    .init(
      name: "shield", valueName: nil,
      help:
        "dose every policy through the environment's predictive shield (safety.shield: MAP "
        + "predictions of the next trough and the day's AUC24)",
      defaultValue: nil),
    .init(
      name: "shield-trough-limit", valueName: "MG_PER_L",
      help:
        "shield with this predicted-trough threshold instead of the definition's (implies --shield)",
      defaultValue: nil),
    .init(
      name: "shield-auc-limit", valueName: "MG_H_PER_L",
      help:
        "shield with this predicted-AUC24 threshold instead of the definition's (implies --shield)",
      defaultValue: nil),
    .init(
      name: "shield-standard-deviations", valueName: "Z",
      help:
        "predict with parameters Z posterior standard deviations towards higher exposure "
        + "instead of the definition's (0 = the MAP estimate; 1.645 = one-sided 95 %), 0-4 "
        + "(implies --shield)",
      defaultValue: nil),
    .init(
      name: "cohort", valueName: "SITE=FILE,...",
      help:
        "draw a site's patients' covariates from its own CSV cohort (columns in Docs/cli.md) "
        + "instead of the population's distributions",
      defaultValue: nil),
    .init(
      name: "worst", valueName: "N",
      help: "list the learned policy's N worst patients per site (highest true trough), 0-100",
      defaultValue: "3"),
    .init(
      name: "worst-svg", valueName: "FILE",
      help: "write an SVG of the worst patients' troughs over time", defaultValue: nil),
    .init(
      name: "json", valueName: nil, help: "print the summaries as JSON instead of tables",
      defaultValue: nil),
    transportOption,
  ]

  /// Environment streams for evaluation start here, far from the training
  /// streams (site index + 1).
  static let evaluationStreamOffset: UInt64 = 1_000_000

  static func run(_ arguments: [String]) throws {
    guard
      let parsed = try parseCommandLine(
        command: "evaluate", arguments: arguments, usage: usage,
        summary:
          "Evaluate a checkpoint's policy on held-out virtual patients of each site, next to the baselines, and print clinical outcome and safety metrics per site and pooled.",
        options: options,
        details:
          "Columns: day-3 target attainment (AUC24 in 400-600 mg*h/L) with its 95% Wilson interval, day-3 AUC24 median and 5th-95th percentiles, fractions above 600 and below 400, fraction with any true trough above 20 mg/L, patients with a clamped dose, patients with a dose lowered by the shield (--shield), mean total dose."
      )
    else { return }
    try parsed.checkPositionals(maximum: 1, usage: usage)
    guard let path = parsed.positionals.first else {
      throw CommandError.usage("missing CHECKPOINT; usage: \(usage)")
    }
    let transport = try CommandTransport.parse(parsed)
    let patients = try parsed.integer("patients", in: 1...10_000_000)
    let batchSize = try parsed.integer("batch-size", in: 1...1_000_000)
    let seed = UInt64(try parsed.integer("seed", in: 0...Int.max))
    let policy = try loadTrainedPolicy(try readCheckpoint(path), path: path)
    if let environment = try PKPDEnvironment.decodeStored(policy.environment, checkpointPath: path)
    {
      let vancomycinOnly = [
        "baselines", "bayesian-target-auc", "bayesian-trough-limit", "shield",
        "shield-trough-limit", "shield-auc-limit",
        "shield-standard-deviations", "cohort", "worst",
        "worst-svg", "patients-csv", "json", "threads", "transport",
      ]
      if let option = vancomycinOnly.first(where: { parsed.explicitOptions.contains($0) }) {
        throw CommandError.usage(
          "--\(option) applies to vancomycin checkpoints only; a \(environment.name) "
            + "evaluation takes --patients, --batch-size and --seed")
      }
      let lines = try environment.evaluationReport(
        policy: policy, patients: patients, batchSize: batchSize, seed: seed)
      for line in lines { print(line) }
      return
    }
    var definition = try decodeCheckedDefinition(of: policy)
    try applyBayesianBaselineOptions(parsed, to: &definition)
    let baselines = try baselineNames(parsed, definition: definition)
    let threads = try parsed.integer("threads", in: 1...256)
    let shield = try shieldThresholds(parsed, definition: definition)
    let worstCount = try parsed.integer("worst", in: 0...100)
    // Output paths are checked before the evaluation runs.
    let csvPath = try parsed.outputPath("patients-csv")
    let svgPath = try parsed.outputPath("worst-svg")
    if svgPath != nil && worstCount == 0 {
      throw CommandError.usage("--worst-svg needs worst patients; give --worst 1 or more")
    }
    if let csvPath, let svgPath, sameFile(csvPath, svgPath) {
      throw CommandError.usage(
        "--patients-csv and --worst-svg both name \(svgPath); give each its own file")
    }
    let siteCohorts = try cohortFiles(parsed, siteNames: policy.configuration.sites.map(\.name))
    // Concurrent batches each run their own products on one BLAS thread,
    // and so does each rank of an MPI job, which is one worker of many.
    if threads > 1 || !transport.isInProcess { BLASThreads.set(1) }

    // Under MPI only rank 0 receives the outcomes; the other ranks are done.
    guard
      let report = try evaluate(
        policy: policy, definition: definition, patients: patients, batchSize: batchSize,
        seed: seed, baselines: baselines, threads: threads, shield: shield,
        worstCount: worstCount, cohorts: siteCohorts, transport: transport)
    else { return }
    if let csvPath {
      try writePatientRows(report, to: csvPath)
    }
    if let svgPath {
      let cases = report.cohorts.flatMap(\.worstCases)
      let svg = worstCasePlot(
        cases, intervalHours: definition.dosing.decisionIntervalHours,
        troughLimit: definition.reward.troughLimitMilligramsPerLiter)
      do {
        try svg.write(toFile: svgPath, atomically: true, encoding: .utf8)
      } catch {
        throw CommandError.failure("could not write \(svgPath): \(error)")
      }
    }
    if parsed.flag("json") {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
      print(
        "checkpoint \(path): environment \(policy.environment.name), round \(policy.round), \(patients) held-out patients per site, seed \(seed)"
      )
      if let shield {
        print("every policy doses through the predictive shield: \(describe(shield))")
      }
      let thresholds = definition.safety?.exposureThresholds ?? []
      for cohort in report.cohorts {
        print("")
        print(cohort.title)
        print(formatTable(cohort.summaries, lastDay: report.lastDay))
        print(
          "safety" + (thresholds.isEmpty ? " (the definition sets no exposure thresholds)" : ""))
        for line in formatSafety(
          summaries: cohort.summaries, tables: cohort.tables, thresholds: thresholds)
        {
          print(line)
        }
        if !cohort.worstCases.isEmpty {
          print("worst patients of the learned policy (highest true trough):")
          for line in formatWorstCases(cohort.worstCases) { print(line) }
        }
      }
    }
  }

  /// Returns the shield thresholds the options ask for, or nil for no
  /// shield: the definition's with `--shield`, overridden by the limit
  /// options.
  static func shieldThresholds(
    _ parsed: ParsedOptions, definition: EnvironmentDefinition
  ) throws -> ShieldDefinition? {
    let trough = try parsed.optionalDouble("shield-trough-limit", in: 0.1...200, unit: "mg/L")
    let auc = try parsed.optionalDouble("shield-auc-limit", in: 1...10_000, unit: "mg h/L")
    let z = try parsed.optionalDouble("shield-standard-deviations", in: 0...4)
    guard parsed.flag("shield") || trough != nil || auc != nil || z != nil else { return nil }
    guard definition.bayesianEstimate != nil else {
      throw CommandError.usage(
        "the shield predicts with MAP estimates, but the checkpoint's environment definition "
          + "has no bayesianEstimate section; evaluate without --shield")
    }
    let stored = definition.safety?.shield
    guard let troughLimit = trough ?? stored?.maximumPredictedTroughMilligramsPerLiter,
      let aucLimit = auc ?? stored?.maximumPredictedAUC24MilligramHoursPerLiter
    else {
      throw CommandError.usage(
        "the checkpoint's environment definition has no safety.shield thresholds; give both "
          + "--shield-trough-limit and --shield-auc-limit")
    }
    return ShieldDefinition(
      maximumPredictedTroughMilligramsPerLiter: troughLimit,
      maximumPredictedAUC24MilligramHoursPerLiter: aucLimit,
      predictionStandardDeviations: z ?? stored?.predictionStandardDeviations)
  }

  /// Describes the shield's thresholds and prediction point for reports.
  static func describe(_ shield: ShieldDefinition) -> String {
    let z = shield.predictionStandardDeviations ?? 0
    let point =
      z > 0
      ? "parameters \(z) posterior standard deviations towards higher exposure"
      : "the MAP estimate"
    return "predicted trough <= \(shield.maximumPredictedTroughMilligramsPerLiter) mg/L and "
      + "day AUC24 <= \(shield.maximumPredictedAUC24MilligramHoursPerLiter) mg h/L at \(point)"
  }

  /// Reads `--cohort SITE=FILE,...` into cohorts by site name.
  static func cohortFiles(_ parsed: ParsedOptions, siteNames: [String]) throws -> [String:
    PatientCohort]
  {
    guard let items = try parsed.list("cohort") else { return [:] }
    var cohorts: [String: PatientCohort] = [:]
    for item in items {
      let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, !parts[1].isEmpty else {
        throw CommandError.usage(
          "--cohort '\(item)' is not SITE=FILE; for example --cohort icu_arc=icu.csv")
      }
      guard siteNames.contains(parts[0]) else {
        throw CommandError.usage(
          "--cohort: unknown site '\(parts[0])'; the checkpoint's sites are "
            + siteNames.joined(separator: ", "))
      }
      guard cohorts[parts[0]] == nil else {
        throw CommandError.usage("--cohort names site '\(parts[0])' twice; give one file per site")
      }
      do {
        cohorts[parts[0]] = try PatientCohort.load(from: URL(fileURLWithPath: parts[1]))
      } catch {
        throw CommandError.invalidInput("\(error)")
      }
    }
    return cohorts
  }

  /// Sets `baselines.bayesian` from `--bayesian-target-auc` and
  /// `--bayesian-trough-limit`. When either option or `--baselines` names
  /// the baseline and the definition has none, the target is 500 mg h/L.
  static func applyBayesianBaselineOptions(
    _ parsed: ParsedOptions, to definition: inout EnvironmentDefinition
  ) throws {
    let target = try parsed.optionalDouble("bayesian-target-auc", in: 100...1000, unit: "mg h/L")
    let trough = try parsed.optionalDouble("bayesian-trough-limit", in: 1...100, unit: "mg/L")
    let listedNames =
      parsed.explicitOptions.contains("baselines") ? try parsed.list("baselines") : nil
    let listed = listedNames?.contains("bayesian") ?? false
    guard target != nil || trough != nil || listed else { return }
    guard definition.bayesianEstimate != nil else {
      throw CommandError.usage(
        "the bayesian baseline doses from MAP estimates, but the checkpoint's environment "
          + "definition has no bayesianEstimate section; evaluate without it")
    }
    var settings =
      definition.baselines.bayesian
      ?? BayesianBaseline(targetDailyAUCMilligramHoursPerLiter: 500)
    if let target { settings.targetDailyAUCMilligramHoursPerLiter = target }
    if let trough { settings.maximumPredictedTroughMilligramsPerLiter = trough }
    definition.baselines.bayesian = settings
  }

  static func baselineNames(
    _ parsed: ParsedOptions, definition: EnvironmentDefinition
  ) throws -> [String] {
    var names = try parsed.list("baselines") ?? []
    if names == ["none"] { return [] }
    if !parsed.explicitOptions.contains("baselines"), definition.baselines.bayesian != nil {
      names.append("bayesian")
    }
    if Set(names).count != names.count {
      throw CommandError.usage(
        "--baselines lists a baseline twice: \(names.joined(separator: ","))")
    }
    for name in names where !["guideline", "oracle", "bayesian"].contains(name) {
      throw CommandError.usage(
        name == "none"
          ? "--baselines: 'none' stands alone; give --baselines none, or list baselines "
            + "(guideline, oracle, bayesian)"
          : "--baselines: unknown baseline '\(name)'; use guideline, oracle, bayesian or none")
    }
    return names
  }

  struct Cohort: Codable {
    var title: String
    var name: String
    var summaries: [OutcomeSummary]
    /// Per-patient tables in `summaries` order; not part of the JSON.
    var tables: [OutcomeTable] = []
    /// The learned policy's worst patients (sites only).
    var worstCases: [WorstCase] = []

    enum CodingKeys: String, CodingKey { case title, name, summaries, worstCases }
  }

  struct Report: Codable {
    var environment: String
    /// The simulated day whose AUC24 the summaries report.
    var lastDay: Int
    var round: Int
    var patientsPerSite: Int
    var seed: UInt64
    /// The shield every policy dosed through; nil without one.
    var shield: ShieldDefinition?
    var cohorts: [Cohort]
  }

  static func evaluate(
    policy: TrainedPolicy, definition: EnvironmentDefinition, patients: Int, batchSize: Int,
    seed: UInt64, baselines: [String], threads: Int, shield: ShieldDefinition? = nil,
    worstCount: Int = 0, cohorts siteCohorts: [String: PatientCohort] = [:],
    transport: CommandTransport = .inProcess
  ) throws -> Report? {
    let days = Int((definition.dosing.episodeHours / 24).rounded())
    var pooled: [OutcomeTable?] = Array(repeating: nil, count: baselines.count + 1)
    var cohorts: [Cohort] = []
    let sites = policy.configuration.sites
    let network = policy.network
    let actionMode = doseActionMode(for: network.actionSpace)
    let policiesPerSite: [[EvaluatedPolicy]] = try sites.map { site in
      let normalizer = try policy.observationNormalizer(site: site.name)
      return [.learned(network: network, normalizer: normalizer)] + baselines.map { .baseline($0) }
    }
    let makeEnvironment: @Sendable (Int, Int) throws -> any DosingEnvironment = { index, size in
      let environment = try VancomycinEnvironment(
        definition: definition, populationName: sites[index].population, batchSize: size,
        streamIdentifier: evaluationStreamOffset + UInt64(index), actionMode: actionMode,
        cohort: siteCohorts[sites[index].name])
      environment.recordsOutcomeTable = true
      if let shield { try environment.setShield(shield) }
      return environment
    }
    let siteResults: BatchResults
    switch transport {
    case .inProcess:
      siteResults = evaluateSitesInProcess(
        policiesPerSite, patients: patients, batchSize: batchSize, seed: seed, threads: threads,
        makeEnvironment: makeEnvironment)
    case .mpi(let world):
      guard
        let gathered = try evaluateSitesOnRanks(
          policiesPerSite, patients: patients, batchSize: batchSize, seed: seed,
          threads: threads, world: world, makeEnvironment: makeEnvironment)
      else { return nil }
      siteResults = gathered
    }

    for (index, site) in sites.enumerated() {
      let policies = policiesPerSite[index]
      let tables: [OutcomeTable]
      do {
        tables = try siteResults.outcome(at: index)!.get()
      } catch {
        throw CommandError.failure("evaluation of site \(site.name) failed: \(error)")
      }
      let model = definition.populations[site.population]?.model ?? "?"
      cohorts.append(
        Cohort(
          title: "site \(site.name) (population \(site.population), model \(model))",
          name: site.name,
          summaries: zip(policies, tables).map {
            OutcomeSummary(policy: $0.name, cohort: site.name, table: $1, days: days)
          }, tables: tables,
          worstCases: worstCases(
            table: tables[0], site: site.name, policy: "learned", count: worstCount, days: days,
            decisions: definition.dosing.decisionsPerEpisode)))
      for (slot, table) in tables.enumerated() {
        if pooled[slot] == nil {
          pooled[slot] = table
        } else {
          pooled[slot]!.append(contentsOf: table)
        }
      }
    }
    let names = ["learned"] + baselines
    cohorts.append(
      Cohort(
        title: "pooled over \(policy.configuration.sites.count) sites", name: "pooled",
        summaries: zip(names, pooled).map {
          OutcomeSummary(policy: $0, cohort: "pooled", table: $1!, days: days)
        }, tables: pooled.map { $0! }))
    return Report(
      environment: policy.environment.name, lastDay: days, round: policy.round,
      patientsPerSite: patients, seed: seed, shield: shield, cohorts: cohorts)
  }

  /// Evaluates every site in this process, `threads` sites at a time.
  /// Each site's batches and seeds are the same as in a serial run, so the
  /// result does not depend on `threads`.
  static func evaluateSitesInProcess(
    _ policiesPerSite: [[EvaluatedPolicy]], patients: Int, batchSize: Int, seed: UInt64,
    threads: Int, makeEnvironment: @escaping @Sendable (Int, Int) throws -> any DosingEnvironment
  ) -> BatchResults {
    let siteResults = BatchResults(batchCount: policiesPerSite.count)
    let evaluateSite: @Sendable (Int) -> Void = { index in
      do {
        let tables = try evaluatePolicies(
          policiesPerSite[index], patientCount: patients, batchSize: batchSize,
          seed: siteSeed(seed, site: index)
        ) { size in try makeEnvironment(index, size) }
        siteResults.store(.success(tables), at: index)
      } catch {
        siteResults.store(.failure(error), at: index)
      }
    }
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = threads
    for index in policiesPerSite.indices { queue.addOperation { evaluateSite(index) } }
    queue.waitUntilAllOperationsAreFinished()
    return siteResults
  }

  /// Returns the seed of site `index`'s held-out cohort.
  static func siteSeed(_ seed: UInt64, site index: Int) -> UInt64 { seed &+ UInt64(index) }

  static func writePatientRows(_ report: Report, to path: String) throws {
    guard let columns = report.cohorts.first?.tables.first?.columnNames else { return }
    var lines = [(["site", "policy"] + columns).joined(separator: ",")]
    for cohort in report.cohorts where cohort.name != "pooled" {
      for (summary, table) in zip(cohort.summaries, cohort.tables) {
        for row in 0..<table.rowCount {
          let values = columns.map { name in "\(table[column: name]![row])" }
          lines.append(([cohort.name, summary.policy] + values).joined(separator: ","))
        }
      }
    }
    do {
      try (lines.joined(separator: "\n") + "\n").write(
        toFile: path, atomically: true, encoding: .utf8)
    } catch {
      throw CommandError.failure("cannot write \(path): \(error.localizedDescription)")
    }
  }

  /// Formats one cohort's summaries as an aligned table; `lastDay` names
  /// the simulated day whose AUC24 the columns report.
  static func formatTable(_ summaries: [OutcomeSummary], lastDay: Int) -> String {
    // Pads without truncating, so a wide value shifts the row instead of
    // losing characters.
    func padded(_ text: String, _ width: Int) -> String {
      text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
    func percent(_ value: Double) -> String { String(format: "%5.1f%%", value * 100) }
    func interval(_ proportion: Proportion) -> String {
      let bounds = proportion.wilsonInterval
      return String(
        format: "%@ [%4.1f-%4.1f]", percent(proportion.fraction), bounds.lower * 100,
        bounds.upper * 100)
    }
    let header = [
      padded("policy", 10), padded("day-\(lastDay) in target [95% CI]", 25),
      padded("day-\(lastDay) AUC24 median [p5-p95]", 27), "AUC>600", "AUC<400",
      padded("trough>20 [95% CI]", 19), "clamped", "shielded", "mean dose",
    ]
    var lines = [header.joined(separator: "  ")]
    for summary in summaries {
      let auc = summary.lastDayAUC
      let fields = [
        padded(summary.policy, 10),
        padded(interval(summary.targetAttainment), 25),
        padded(String(format: "%6.0f [%4.0f-%4.0f]", auc.median, auc.p05, auc.p95), 27),
        padded(percent(summary.lastDayAUCAbove600.fraction), 7),
        padded(percent(summary.lastDayAUCBelow400.fraction), 7),
        padded(interval(summary.anyTroughAboveLimit), 19),
        String(format: "%7d", summary.patientsClamped),
        String(format: "%8d", summary.patientsShielded),
        String(format: "%6.0f mg", summary.meanTotalDoseMilligrams),
      ]
      lines.append(fields.joined(separator: "  "))
    }
    return lines.joined(separator: "\n")
  }
}
