import Foundation
import TitrateEnvironments
import TitrateFederation
import TitrateSafety

/// `titrate verify CHECKPOINT`: the safety suite of `TitrateSafety` on a
/// checkpoint's policy, one line per check, exit 4 when any check fails.
enum VerifyCommand {
  /// The error for `--environment` on a checkpoint with thresholds.
  static let environmentNotUsed =
    "--environment only supplies safety thresholds for a checkpoint whose stored definition "
    + "has none, and this checkpoint's has them; remove --environment"

  static let usage =
    "titrate verify CHECKPOINT [--patients N] [--seed N] [--json] [--shield] [options]"

  static let options: [OptionSpecification] = [
    .init(
      name: "patients", valueName: "N", help: "virtual patients per cohort, 1-1000000",
      defaultValue: "1000"),
    .init(
      name: "seed", valueName: "N", help: "seed of every cohort, noise and sample",
      defaultValue: "20301"),
    .init(
      name: "policy", valueName: "NAME",
      help:
        "policy to verify: learned (the checkpoint's network), guideline (vancomycin), or a "
        + "baseline of a warfarin, propofol or glucose checkpoint's environment",
      defaultValue: "learned"),
    .init(
      name: "sanity-tolerance", valueName: "FRACTION",
      help: "largest accepted fraction of clinical sanity comparisons that raise the dose, 0-1",
      defaultValue: "0"),
    .init(
      name: "environment", valueName: "NAME|FILE",
      help:
        "definition whose safety thresholds are used when the checkpoint's stored definition "
        + "has none (default: the stored environment's name; a warfarin, propofol, glucose or "
        + "linear name is looked up in the pkpd subfolder first)",
      defaultValue: nil),
    .init(
      name: "environments-dir", valueName: "DIR", help: "folder of environment definitions",
      defaultValue: nil),
    .init(
      name: "shield", valueName: nil,
      help: "verify with the predictive shield of the definition (safety.shield) on",
      defaultValue: nil),
    .init(
      name: "json", valueName: nil, help: "print the report as JSON instead of text",
      defaultValue: nil),
  ]

  static func run(_ arguments: [String]) throws {
    guard
      let parsed = try parseCommandLine(
        command: "verify", arguments: arguments, usage: usage,
        summary:
          "Run the safety suite on a checkpoint's policy: hard dose limits under extreme and perturbed inputs, rejection of non-finite observations, exposure-threshold rates on site and stress cohorts, and sampled clinical sanity properties. Prints one line per check and exits with 4 when any check fails.",
        options: options,
        details:
          "Cohorts: each site's population; stress profiles (renal failure, haemodialysis, augmented clearance, weight 30-40 and 250-300 kg, ages 16 and 105) on one site per true PK model; noisy, missing, extreme (+-1e30) and non-finite observations on every site. Exposure rates pass on the point estimate and show the 95% Wilson interval. See Docs/safety.md."
      )
    else { return }
    try parsed.checkPositionals(maximum: 1, usage: usage)
    guard let path = parsed.positionals.first else {
      throw CommandError.usage("missing CHECKPOINT; usage: \(usage)")
    }
    var configuration = SafetyVerificationConfiguration()
    configuration.patientsPerCohort = try parsed.integer("patients", in: 1...1_000_000)
    configuration.sanityRowsPerCohort = min(configuration.patientsPerCohort, 1000)
    configuration.seed = UInt64(try parsed.integer("seed", in: 0...Int.max))
    configuration.sanityTolerance = try parsed.double("sanity-tolerance", in: 0...1)
    let checkpoint = try loadTrainedPolicy(try readCheckpoint(path), path: path)
    if PKPDEnvironment.kind(of: checkpoint.environment.definitionJSON) != nil {
      try PKPDVerify.run(
        parsed, checkpoint: checkpoint, path: path, configuration: configuration)
      return
    }
    let policyName = try parsed.choice("policy", from: ["learned", "guideline"])
    let stored = try decodeCheckedDefinition(of: checkpoint)
    var notes: [String] = []
    var thresholds: [ExposureThreshold]?
    if stored.safety != nil && parsed.explicitOptions.contains("environment") {
      throw CommandError.usage(environmentNotUsed)
    }
    if stored.safety == nil {
      let catalog = try EnvironmentCatalog(explicitDirectory: parsed.string("environments-dir"))
      let name = parsed.string("environment") ?? checkpoint.environment.name
      let (definition, _) = try catalog.load(name)
      guard let safety = definition.safety else {
        throw CommandError.invalidInput(
          "neither the checkpoint's stored definition nor \(catalog.url(for: name).path) has a "
            + "safety section with exposure thresholds; pass --environment with a definition "
            + "that has one")
      }
      thresholds = safety.exposureThresholds
      notes.append(
        "the checkpoint's stored definition has no safety section; exposure thresholds are "
          + "taken from \(catalog.url(for: name).path)")
    }
    if parsed.flag("shield") {
      guard let shield = stored.safety?.shield, stored.bayesianEstimate != nil else {
        throw CommandError.usage(
          "--shield needs a safety.shield section and a bayesianEstimate section in the "
            + "checkpoint's stored definition; this checkpoint has none, so verify without --shield"
        )
      }
      configuration.shield = shield
      notes.append(
        "every cohort runs behind the predictive shield (\(EvaluateCommand.describe(shield)))")
    }

    let verifier: SafetyVerifier
    do {
      verifier = try SafetyVerifier(
        checkpoint: checkpoint, exposureThresholds: thresholds, configuration: configuration)
    } catch {
      throw CommandError.invalidInput("\(path): \(error)")
    }
    let policy: PolicyUnderTest =
      policyName == "learned"
      ? .trained(checkpoint)
      : .guideline(
        definition: verifier.definition,
        actionMode: doseActionMode(
          for: checkpoint.network.actionSpace))
    var report: SafetyReport
    do {
      report = try verifier.verify(policy)
    } catch {
      throw CommandError.failure("verification of \(path) failed to run: \(error)")
    }
    report.notes = notes + report.notes

    try printReport(report, checkpoint: checkpoint, path: path, json: parsed.flag("json"))
  }

  /// Prints the report as text or JSON and raises exit 4 when a check
  /// failed.
  static func printReport(
    _ report: SafetyReport, checkpoint: TrainedPolicy, path: String, json: Bool
  ) throws {
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
      print("checkpoint \(path): round \(checkpoint.round)")
      print(report.text)
    }
    if !report.passed {
      throw CommandError(message: report.summaryLine, code: .checksFailed)
    }
  }
}
