import Foundation
import TitrateEnvironments
import TitrateEvaluation
import TitrateFederation

// Warfarin (`Environments/pkpd/warfarin.json`) in `titrate train` and
// `titrate evaluate`: one population, so every site draws from it, and a
// report of time in therapeutic range instead of the vancomycin table.
enum WarfarinCommands {
  /// Returns true when the JSON text is a definition whose `kind` is
  /// `warfarin`; vancomycin definitions have no `kind`.
  static func isWarfarin(_ text: String) -> Bool {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    else { return false }
    return object["kind"] as? String == "warfarin"
  }

  /// Loads a warfarin definition named on the command line, or returns nil
  /// when the file is not one (so the vancomycin path handles it).
  static func loadIfWarfarin(_ catalog: EnvironmentCatalog, _ nameOrPath: String) throws
    -> (WarfarinDefinition, StoredEnvironment)?
  {
    let url = catalog.url(for: nameOrPath)
    guard let text = try? String(contentsOf: url, encoding: .utf8), isWarfarin(text) else {
      return nil
    }
    do {
      let definition = try WarfarinDefinition.load(from: url)
      return (definition, StoredEnvironment(name: definition.name, definitionJSON: text))
    } catch {
      throw CommandError.invalidInput("\(url.path): \(error)")
    }
  }

  /// Decodes a warfarin definition stored in a checkpoint.
  static func decodeStored(_ stored: StoredEnvironment) throws -> WarfarinDefinition {
    do {
      return try WarfarinDefinition.decode(from: Data(stored.definitionJSON.utf8))
    } catch {
      throw CommandError.invalidInput(
        "the warfarin definition stored in the checkpoint does not load: \(error)")
    }
  }

  /// Builds each site's batch of warfarin patients; sites differ in their
  /// random streams only.
  static func environmentFactory(_ definition: WarfarinDefinition) -> EnvironmentFactory {
    { site, index in
      try WarfarinEnvironment(
        definition: definition, batchSize: site.patientsPerBatch,
        streamIdentifier: UInt64(index) + 1)
    }
  }

  /// Evaluates a warfarin checkpoint on held-out patients per site and
  /// pooled, next to the three baselines, and returns the report lines.
  static func evaluationReport(
    policy: TrainedPolicy, definition: WarfarinDefinition, patients: Int, batchSize: Int,
    seed: UInt64
  ) throws -> [String] {
    let sites = policy.configuration.sites
    let baselines = ["iwpc_pharmacogenetic", "iwpc_clinical", "fixed_5mg"]
    var pooled: [OutcomeTable?] = Array(repeating: nil, count: baselines.count + 1)
    var lines = [
      "checkpoint environment \(definition.name), round \(policy.round), \(patients) held-out "
        + "patients per site, seed \(seed)",
      "columns: time in INR 2-3 by Rosendaal interpolation of measured INRs and of true daily "
        + "INRs (mean [95% CI]), time with true INR above 4 and below 2, mean daily dose",
    ]
    for (index, site) in sites.enumerated() {
      let normalizer = try policy.observationNormalizer(site: site.name)
      let policies: [EvaluatedPolicy] =
        [.learned(network: policy.network, normalizer: normalizer)]
        + baselines.map { .baseline($0) }
      let tables = try evaluatePolicies(
        policies, patientCount: patients, batchSize: batchSize, seed: seed &+ UInt64(index)
      ) { size in
        let environment = try WarfarinEnvironment(
          definition: definition, batchSize: size, streamIdentifier: 0x5741_0000 + UInt64(index))
        environment.recordsOutcomeTable = true
        return environment
      }
      lines += ["", "site \(site.name)"] + formatTable(policies.map(\.name), tables)
      for (slot, table) in tables.enumerated() {
        if pooled[slot] == nil {
          pooled[slot] = table
        } else {
          pooled[slot]!.append(contentsOf: table)
        }
      }
    }
    lines +=
      ["", "pooled over \(sites.count) sites"]
      + formatTable(["learned"] + baselines, pooled.map { $0! })
    return lines
  }

  /// Formats one line per policy: mean [95% CI] of the time-in-range columns, the
  /// mean time above 4 and below 2, and the mean daily dose.
  static func formatTable(_ names: [String], _ tables: [OutcomeTable]) -> [String] {
    func summary(_ values: [Double]) -> String {
      guard !values.isEmpty else { return "-" }
      let mean = values.reduce(0, +) / Double(values.count)
      let variance =
        values.count > 1
        ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1) : 0
      // Normal approximation of the mean's 95% interval.
      let half = 1.96 * (variance / Double(values.count)).squareRoot()
      return String(
        format: "%5.1f%% [%4.1f-%4.1f]", mean * 100, (mean - half) * 100, (mean + half) * 100)
    }
    func mean(_ values: [Double]) -> Double {
      values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }
    var lines = [
      "policy                 TTR measured          TTR true daily        INR>4    INR<2    mean dose"
    ]
    for (name, table) in zip(names, tables) {
      let column = { (key: String) in table[column: key] ?? [] }
      let doses = column("totalDoseMilligrams")
      let days = Double(
        table.columnNames.filter { $0.hasSuffix("DoseMilligrams") && $0.hasPrefix("day") }.count)
      lines.append(
        String(
          format: "%@ %@  %@  %5.1f%%   %5.1f%%   %.2f mg/day",
          name.padding(toLength: 22, withPad: " ", startingAt: 0) as NSString,
          summary(column("ttrMeasured")), summary(column("ttrTrueDaily")),
          mean(column("timeAboveBleedingThresholdTrueDaily")) * 100,
          mean(column("timeBelowRangeTrueDaily")) * 100, mean(doses) / max(days, 1)))
    }
    return lines
  }
}
