import Foundation
import TitrateEnvironments
import TitrateEvaluation
import TitrateFederation

// The environments of `Environments/pkpd` (warfarin, propofol, glucose and
// the data-defined linear kind, such as gentamicin) in `titrate train` and
// `titrate evaluate`. Warfarin, propofol and linear drugs have one
// population, so every site draws from it; glucose has one per age group.
// Each has its own report instead of the vancomycin table.
enum PKPDEnvironment {
  case warfarin(WarfarinDefinition)
  case propofol(PropofolDefinition)
  case glucose(GlucoseDefinition)
  case linear(LinearDefinition)

  /// The `kind` values these environments use.
  static let kinds = ["warfarin", "propofol", "glucose", "linear"]

  /// Returns the `kind` of a definition's JSON text when it is one of these
  /// environments, nil otherwise (vancomycin definitions have no `kind`).
  static func kind(of text: String) -> String? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
      let kind = object["kind"] as? String, kinds.contains(kind)
    else { return nil }
    return kind
  }

  /// Decodes a definition of these kinds, or returns nil for another one.
  /// A linear definition's cohort file is read relative to `directory`.
  /// - Throws: the definition's error when the text is of a known kind but
  ///   invalid.
  static func decode(_ text: String, relativeTo directory: URL? = nil) throws
    -> PKPDEnvironment?
  {
    let data = Data(text.utf8)
    switch kind(of: text) {
    case "warfarin": return .warfarin(try WarfarinDefinition.decode(from: data))
    case "propofol": return .propofol(try PropofolDefinition.decode(from: data))
    case "glucose": return .glucose(try GlucoseDefinition.decode(from: data))
    case "linear":
      return .linear(try LinearDefinition.decode(from: data, relativeTo: directory))
    default: return nil
    }
  }

  /// Loads a definition named on the command line, or returns nil when the
  /// file is not of these kinds (so the vancomycin path handles it).
  static func load(_ catalog: EnvironmentCatalog, _ nameOrPath: String) throws
    -> (PKPDEnvironment, StoredEnvironment)?
  {
    let url = catalog.url(for: nameOrPath)
    guard let text = try? String(contentsOf: url, encoding: .utf8), kind(of: text) != nil else {
      return nil
    }
    do {
      let environment = try decode(text, relativeTo: url.deletingLastPathComponent())!
      var stored = StoredEnvironment(name: environment.name, definitionJSON: text)
      if case .linear(let definition) = environment { stored.cohort = definition.cohortReference }
      return (environment, stored)
    } catch {
      throw CommandError.invalidInput("\(url.path): \(error)")
    }
  }

  /// Decodes the definition a checkpoint stored, or returns nil for a
  /// vancomycin one. A linear definition's cohort file is read from the
  /// stored absolute path, else relative to the folder of `checkpointPath`,
  /// and must have the stored SHA-256.
  static func decodeStored(_ stored: StoredEnvironment, checkpointPath: String) throws
    -> PKPDEnvironment?
  {
    do {
      guard kind(of: stored.definitionJSON) == "linear" else {
        return try decode(stored.definitionJSON)
      }
      return .linear(
        try LinearDefinition.decodeStored(
          from: Data(stored.definitionJSON.utf8), trainedCohort: stored.cohort,
          checkpointDirectory: URL(fileURLWithPath: checkpointPath).deletingLastPathComponent()))
    } catch {
      throw CommandError.invalidInput(
        "the definition stored in the checkpoint does not load: \(error)")
    }
  }

  var name: String {
    switch self {
    case .warfarin(let definition): return definition.name
    case .propofol(let definition): return definition.name
    case .glucose(let definition): return definition.name
    case .linear(let definition): return definition.name
    }
  }

  /// Site populations: the environment's name for warfarin and propofol,
  /// the age groups for glucose (the natural federation of its patients).
  var populationNames: [String] {
    switch self {
    case .glucose: return GlucoseAgeGroup.allCases.map(\.rawValue)
    default: return [name]
    }
  }

  /// Decisions per episode; a rollout spans one episode by default because
  /// sites restart their patients every round.
  var decisionsPerEpisode: Int {
    switch self {
    case .warfarin(let definition): return definition.dosing.episodeDays
    case .propofol(let definition): return definition.dosing.decisionsPerEpisode
    case .glucose(let definition):
      return definition.episode.episodeHours * 60 / definition.sensor.sampleMinutes
    case .linear(let definition): return definition.dosing.decisionsPerEpisode
    }
  }

  var baselines: [String] {
    switch self {
    case .warfarin: return ["iwpc_pharmacogenetic", "iwpc_clinical", "fixed_5mg"]
    case .propofol: return ["pid", "constant_rate"]
    case .glucose: return ["basal_bolus"]
    case .linear(let definition): return definition.baselineNames
    }
  }

  /// Builds a batch of patients; `stream` separates sites and uses, and
  /// `population` (one of `populationNames`) selects glucose's age group.
  func makeEnvironment(batchSize: Int, stream: UInt64, population: String) throws
    -> any DosingEnvironment
  {
    switch self {
    case .warfarin(let definition):
      return try WarfarinEnvironment(
        definition: definition, batchSize: batchSize, streamIdentifier: stream)
    case .propofol(let definition):
      return try PropofolEnvironment(
        definition: definition, batchSize: batchSize, streamIdentifier: stream)
    case .glucose(let definition):
      guard let group = GlucoseAgeGroup(rawValue: population) else {
        throw CommandError.invalidInput(
          "site population \(population) is not an age group of the glucose environment; use "
            + "one of: \(populationNames.joined(separator: ", "))")
      }
      return try GlucoseEnvironment(
        definition: definition, group: group, batchSize: batchSize, streamIdentifier: stream)
    case .linear(let definition):
      return try LinearEnvironment(
        definition: definition, batchSize: batchSize, streamIdentifier: stream)
    }
  }

  /// Builds each site's environment; sites differ in their random streams.
  var environmentFactory: EnvironmentFactory {
    let environment = self
    return { site, index in
      try environment.makeEnvironment(
        batchSize: site.patientsPerBatch, stream: UInt64(index) + 1, population: site.population)
    }
  }

  /// Report columns: header, outcome column, and whether it is a fraction
  /// shown in percent with a 95% interval of its mean.
  var columns: [(header: String, column: String, percentWithInterval: Bool)] {
    switch self {
    case .warfarin:
      return [
        ("TTR measured", "ttrMeasured", true), ("TTR true daily", "ttrTrueDaily", true),
        ("INR>4 %", "timeAboveBleedingThresholdTrueDaily", false),
        ("INR<2 %", "timeBelowRangeTrueDaily", false),
        ("dose mg", "totalDoseMilligrams", false),
      ]
    case .propofol:
      return [
        ("BIS 40-60", "timeInRange", true), ("MDAPE %", "mdapePercent", false),
        ("MDPE %", "mdpePercent", false), ("wobble %", "wobblePercent", false),
        ("BIS<40 %", "timeBelowRange", false),
        ("BIS<30 % (episode)", "timeBelowBurstSuppressionWholeEpisode", false),
      ]
    case .glucose:
      return [
        ("TIR 70-180", "timeInRange", true), ("<70 %", "timeBelowRange", false),
        ("<54 %", "timeBelow54", false), (">180 %", "timeAboveRange", false),
        (">250 %", "timeAbove250", false), ("LBGI", "lowBloodGlucoseIndex", false),
        ("HBGI", "highBloodGlucoseIndex", false), ("risk index", "riskIndex", false),
        ("insulin U", "totalInsulinUnits", false),
      ]
    case .linear(let definition):
      // Without a ceiling no trough is below it, so the column is left out.
      let ceiling: [(String, String, Bool)] =
        definition.targets.troughCeilingMilligramsPerLiter == nil
        ? [] : [("trough<ceiling", "troughBelowCeiling", true)]
      return [("target attained", "targetAttainment", true)] + ceiling + [
        ("toxic trough", "toxicTrough", true),
        ("AUC>limit", "cumulativeAUCAboveLimit", true),
        ("peak mg/L", "meanPeakMilligramsPerLiter", false),
        ("trough mg/L", "meanTroughMilligramsPerLiter", false),
        ("interval h", "meanIntervalHours", false), ("dose mg", "totalDoseMilligrams", false),
      ]
    }
  }

  var columnNote: String {
    switch self {
    case .warfarin:
      return "time in INR 2-3 by Rosendaal interpolation of measured and of true daily INRs "
        + "(mean [95% CI]), time with true INR above 4 and below 2 in percent, total dose "
        + "per patient in mg"
    case .propofol:
      return "time with true BIS in 40-60 (mean [95% CI]), Varvel MDAPE, MDPE and wobble of "
        + "the reported BIS in percent, time below 40, and time below 30 over the whole "
        + "episode in percent"
    case .glucose:
      return "time with true blood glucose in 70-180 mg/dL (mean [95% CI]), below 70 and 54, "
        + "above 180 and 250 mg/dL in percent (per-sample means every 3 min), Kovatchev LBGI, "
        + "HBGI and risk index = LBGI + HBGI (0-100), insulin per patient-day in U"
    case .linear(let definition):
      return linearColumnNote(definition)
    }
  }

  /// Evaluates a checkpoint on held-out patients per site and pooled, next
  /// to the baselines, and returns the report lines.
  func evaluationReport(policy: TrainedPolicy, patients: Int, batchSize: Int, seed: UInt64)
    throws -> [String]
  {
    let sites = policy.configuration.sites
    var pooled: [OutcomeTable?] = Array(repeating: nil, count: baselines.count + 1)
    var lines = [
      "checkpoint environment \(name), round \(policy.round), \(patients) held-out patients "
        + "per site, seed \(seed)",
      "columns: \(columnNote)",
    ]
    let names = ["learned"] + baselines
    for (index, site) in sites.enumerated() {
      let normalizer = try policy.observationNormalizer(site: site.name)
      let policies: [EvaluatedPolicy] =
        [.learned(network: policy.network, normalizer: normalizer)]
        + baselines.map { .baseline($0) }
      let environment = self
      let tables = try evaluatePolicies(
        policies, patientCount: patients, batchSize: batchSize, seed: seed &+ UInt64(index)
      ) { size in
        let batch = try environment.makeEnvironment(
          batchSize: size, stream: 0x5741_0000 + UInt64(index), population: site.population)
        batch.recordsOutcomeTable = true
        return batch
      }
      lines += ["", "site \(site.name)"] + formatTable(names, tables)
      for (slot, table) in tables.enumerated() {
        if let existing = pooled[slot] {
          var merged = existing
          merged.append(contentsOf: table)
          pooled[slot] = merged
        } else {
          pooled[slot] = table
        }
      }
    }
    lines += ["", "pooled over \(sites.count) sites"] + formatTable(names, pooled.map { $0! })
    return lines
  }

  /// Formats one line per policy with the kind's columns.
  func formatTable(_ names: [String], _ tables: [OutcomeTable]) -> [String] {
    func mean(_ values: [Double]) -> Double {
      values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }
    func withInterval(_ values: [Double]) -> String {
      guard values.count > 1 else { return String(format: "%5.1f%%", mean(values) * 100) }
      let average = mean(values)
      let variance =
        values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count - 1)
      // Normal approximation of the mean's 95% interval.
      let half = 1.96 * (variance / Double(values.count)).squareRoot()
      // Time fractions cannot leave [0, 1], so the interval is clipped there.
      return String(
        format: "%5.1f%% [%4.1f-%4.1f]", average * 100, max(average - half, 0) * 100,
        min(average + half, 1) * 100)
    }
    func padded(_ text: String, _ width: Int) -> String {
      text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
    var lines = [
      ([padded("policy", 22)] + columns.map { padded($0.header, $0.percentWithInterval ? 20 : 10) })
        .joined(separator: " ")
    ]
    for (name, table) in zip(names, tables) {
      var fields = [padded(name, 22)]
      for column in columns {
        let values = table[column: column.column] ?? []
        if column.percentWithInterval {
          fields.append(padded(withInterval(values), 20))
        } else {
          // Fractions in [0, 1] are shown in percent; Varvel measures and
          // doses are already in their units.
          let isFraction = column.column.hasPrefix("time")
          let value = mean(values) * (isFraction ? 100 : 1)
          fields.append(padded(String(format: "%.1f", value), 10))
        }
      }
      lines.append(fields.joined(separator: " "))
    }
    return lines
  }
}

/// Describes the linear-kind report columns with the file's own targets.
private func linearColumnNote(_ definition: LinearDefinition) -> String {
  let targets = definition.targets
  let exposure = targets.exposure
  let window: String
  switch exposure.kind {
  case .peakToMICRatio:
    let mic = targets.minimumInhibitoryConcentrationMilligramsPerLiter ?? 0
    window = "peak/MIC at least \(exposure.upper) (MIC \(mic) mg/L)"
  case .peakMilligramsPerLiter:
    window = "peak in \(exposure.lower)-\(exposure.upper) mg/L"
  case .dailyAUCMilligramHoursPerLiter:
    window = "AUC per 24 h in \(exposure.lower)-\(exposure.upper) mg*h/L"
  }
  // Without a ceiling the table has no trough<ceiling column to describe.
  let ceiling = targets.troughCeilingMilligramsPerLiter.map { "true trough below \($0) mg/L, " }
  let safety = definition.safety
  return "fractions of the \(definition.dosing.decisionsPerEpisode) dosing cycles per patient "
    + "(mean [95% CI]) with \(window), \(ceiling ?? "")trough at or above "
    + "\(safety.toxicTroughMilligramsPerLiter) mg/L, and patients whose cumulative AUC passed "
    + "\(safety.cumulativeAUCLimitMilligramHoursPerLiter) mg*h/L; mean peak and trough over "
    + "cycles, mean interval, total dose per patient in mg"
}
