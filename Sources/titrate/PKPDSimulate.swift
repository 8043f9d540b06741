import Foundation
import TitrateEnvironments
import TitrateFederation
import TitrateRandom

/// `titrate simulate` on a warfarin, propofol, glucose or linear-kind
/// environment: one patient under a baseline or a checkpoint's policy,
/// one table row per decision in the kind's units, then the kind's
/// summary metrics from its outcome table.
enum PKPDSimulate {
  /// Options of `SimulateCommand` that only the vancomycin path reads.
  static let vancomycinOnly = [
    "population", "dose-mg", "loading-dose-mg", "interval-hours", "infusion-hours", "hours", "svg",
    "intensive-care",
  ]
  /// Options that only the linear kind reads (its covariates).
  static let linearOnly = ["age", "weight", "sex", "creatinine", "haemodialysis"]

  static func run(
    _ parsed: ParsedOptions, environment: PKPDEnvironment, trained: TrainedPolicy?
  ) throws {
    var rejected = vancomycinOnly
    if case .linear = environment {} else { rejected += linearOnly }
    if trained != nil { rejected.append("baseline") } else { rejected.append("site") }
    if let option = rejected.first(where: { parsed.explicitOptions.contains($0) }) {
      throw CommandError.usage(
        "--\(option) does not apply to simulate on \(environment.name); see titrate simulate --help"
      )
    }
    var noiseSeed: UInt64?
    if let text = parsed.string("noise-seed") {
      guard let value = UInt64(text) else {
        throw CommandError.usage(
          "--noise-seed \(text) is not a whole number in 0-\(UInt64.max); give one")
      }
      noiseSeed = value
    }
    let quiet = withoutNoise(environment, keep: noiseSeed != nil)
    let batch = try quiet.makeEnvironment(
      batchSize: 1, stream: 0x5100, population: try population(parsed, quiet, trained))
    batch.automaticallyResets = false
    batch.recordsOutcomeTable = true
    let seed = noiseSeed ?? 0
    var observations = batch.reset(seed: seed)
    if case .linear(let definition) = quiet, let linear = batch as? LinearEnvironment {
      let patient = definition.typicalPatient(
        definition.covariates(
          ageYears: try parsed.double("age", in: 18...120, unit: "years"),
          weightKilograms: try parsed.double("weight", in: 20...400, unit: "kg"),
          isFemale: try parsed.choice("sex", from: ["male", "female"]) == "female",
          serumCreatinineMilligramsPerDeciliter: try parsed.double(
            "creatinine", in: 0.1...20, unit: "mg/dL"),
          onHaemodialysis: parsed.flag("haemodialysis")))
      linear.recordsConcentrationTrace = true
      try linear.setPatients([patient])
      observations = linear.currentObservations()
    }

    let chooser = try actionChooser(parsed, batch: batch, trained: trained)
    var rows: [[Double]] = []
    let table = PKPDSimulationTable(environment: quiet)
    print(table.patientLine(batch, seed: seed))
    for decision in 0..<environment.decisionsPerEpisode {
      let before = table.beforeStep(batch, decision: decision, observations: observations)
      let actions = try chooser(observations)
      let step = batch.step(actions: actions)
      let row = before + table.afterStep(batch)
      rows.append(row)
      observations = step.observations
      if step.terminated[0] || step.truncated[0] { break }
    }
    let outcomes = batch.drainOutcomeTable()
    rows = table.completed(rows, outcomes: outcomes)
    if let linear = batch as? LinearEnvironment {
      rows = withCycleAUC(rows, linear)
      print("cycles: true peak and trough; exact AUC of the central concentration")
    }
    print(table.header.joined(separator: "  "))
    for row in rows { print(table.format(row)) }
    print("summary:")
    for line in table.summary(outcomes, batch: batch) { print("  \(line)") }
    if noiseSeed == nil { print("measurement noise off; --noise-seed N turns it on") }
    if let path = try parsed.outputPath("csv") {
      try writeCSV(table.csvHeader, rows, to: path)
    }
  }

  /// The checkpoint's first site's population, else the environment's
  /// first (for glucose, the children).
  static func population(
    _ parsed: ParsedOptions, _ environment: PKPDEnvironment, _ trained: TrainedPolicy?
  ) throws -> String {
    trained?.configuration.sites.first?.population ?? environment.populationNames[0]
  }

  /// Returns a copy of the definition without measurement noise unless
  /// `keep`.
  static func withoutNoise(_ environment: PKPDEnvironment, keep: Bool) -> PKPDEnvironment {
    guard !keep else { return environment }
    switch environment {
    case .linear(var definition):
      definition.model.residualError.additiveMilligramsPerLiter = 0
      definition.model.residualError.proportional = 0
      return .linear(definition)
    case .propofol(var definition):
      definition.measurement.noiseStandardDeviation = 0
      return .propofol(definition)
    case .glucose(var definition):
      definition.sensor.noiseEnabled = false
      return .glucose(definition)
    case .warfarin(var definition):
      // The reported INR keeps its rounding to the laboratory's
      // resolution, which is part of the report rather than noise.
      definition.model.inrResidualLogStandardDeviation = 0
      return .warfarin(definition)
    }
  }

  /// Returns the action rule: the checkpoint's deterministic policy, or
  /// the baseline named by `--baseline` (the kind's first by default).
  static func actionChooser(
    _ parsed: ParsedOptions, batch: any DosingEnvironment, trained: TrainedPolicy?
  ) throws -> ([Float]) throws -> [Float] {
    if let trained {
      let normalizer = try trained.observationNormalizer(
        site: parsed.string("site") ?? trained.configuration.sites[0].name)
      var generator = Xoshiro256(seed: 0)
      return { observations in
        let input = normalizer?.normalize(observations) ?? observations
        return trained.network.actions(
          observations: input, count: 1, deterministic: true, generator: &generator)
      }
    }
    let name = parsed.string("baseline") ?? batch.baselineNames[0]
    guard batch.baselineNames.contains(name) else {
      throw CommandError.usage(
        "--baseline \(name) is not one of: \(batch.baselineNames.joined(separator: ", "))")
    }
    return { _ in
      do {
        return try batch.baselineActions(named: name)
      } catch {
        throw CommandError.usage("\(error)")
      }
    }
  }

  /// Fills each linear cycle's AUC from the model's exact AUC state, the
  /// difference of its values at the cycle's dose time and the next. A
  /// trapezoidal rule on the grid would start an IV bolus cycle from the
  /// concentration before the dose and miss half a step of it.
  static func withCycleAUC(_ rows: [[Double]], _ linear: LinearEnvironment) -> [[Double]] {
    let step = linear.definition.dosing.simulationStepHours
    // One series per patient; index = grid step, starting at t = 0.
    let trace = linear.aucTrace[0]
    return rows.map { row in
      var filled = row
      let start = Int((row[1] / step).rounded())
      let end = min(start + Int((row[3] / step).rounded()), trace.count - 1)
      filled[6] = start < end ? trace[end] - trace[start] : 0
      return filled
    }
  }

  static func writeCSV(_ header: [String], _ rows: [[Double]], to path: String) throws {
    var lines = [header.joined(separator: ",")]
    for row in rows { lines.append(row.map { String(format: "%.6g", $0) }.joined(separator: ",")) }
    do {
      try (lines.joined(separator: "\n") + "\n").write(
        toFile: path, atomically: true, encoding: .utf8)
    } catch {
      throw CommandError.failure("cannot write \(path): \(error.localizedDescription)")
    }
  }
}
