import Foundation
import TitrateEnvironments
import TitrateFederation
import TitrateSafety

/// `titrate verify` on a warfarin, propofol, glucose or linear-kind
/// checkpoint: the
/// checks of `PKPDSafetyVerifier` with the thresholds of the stored
/// definition's safety section (or of `--environment` when it has none).
enum PKPDVerify {
  static func run(
    _ parsed: ParsedOptions, checkpoint: TrainedPolicy, path: String,
    configuration: SafetyVerificationConfiguration
  ) throws {
    if parsed.flag("shield") {
      throw CommandError.usage(
        "--shield applies to vancomycin checkpoints only; verify without --shield")
    }
    let checkpointDirectory = URL(fileURLWithPath: path).deletingLastPathComponent()
    let stored: PKPDSafetyEnvironment
    do {
      guard
        let decoded = try PKPDSafetyEnvironment.decode(
          definitionJSON: checkpoint.environment.definitionJSON,
          trainedCohort: checkpoint.environment.cohort, checkpointDirectory: checkpointDirectory)
      else {
        let kind = PKPDEnvironment.kind(of: checkpoint.environment.definitionJSON) ?? "unknown"
        throw CommandError.invalidInput(
          "\(path): titrate verify does not check \(kind) checkpoints yet; it checks "
            + "vancomycin, warfarin, propofol, glucose and linear ones")
      }
      stored = decoded
    } catch let error as CommandError {
      throw error
    } catch {
      throw CommandError.invalidInput(
        "the definition stored in the checkpoint does not load: \(error)")
    }
    var notes: [String] = []
    var thresholds: [PKPDExposureThreshold]?
    if stored.safety != nil && parsed.explicitOptions.contains("environment") {
      throw CommandError.usage(VerifyCommand.environmentNotUsed)
    }
    if stored.safety == nil {
      let catalog = try EnvironmentCatalog(explicitDirectory: parsed.string("environments-dir"))
      let name = parsed.string("environment") ?? checkpoint.environment.name
      let candidates = catalog.libraryURLs(for: name)
      guard
        let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }),
        let text = try? String(contentsOf: url, encoding: .utf8)
      else {
        throw CommandError.invalidInput(
          "the checkpoint's stored definition has no safety section with exposure thresholds, "
            + "and no definition was found at "
            + candidates.map(\.path).joined(separator: " or ")
            + " to take them from; pass --environment with a definition file that has them")
      }
      let fallback: PKPDSafetyEnvironment?
      do {
        fallback = try PKPDSafetyEnvironment.decode(definitionJSON: text)
      } catch {
        throw CommandError.invalidInput(
          "the checkpoint's stored definition has no exposure thresholds, and \(url.path), "
            + "which would supply them, does not load: \(error)")
      }
      guard let safety = fallback?.safety else {
        throw CommandError.invalidInput(
          "neither the checkpoint's stored definition nor \(url.path) has exposure thresholds "
            + "(safety.exposureThresholds); pass --environment with a definition that has them")
      }
      thresholds = safety.exposureThresholds
      notes.append(
        "the checkpoint's stored definition has no safety section; exposure thresholds are "
          + "taken from \(url.path). Their descriptions cite that file's levels, but each "
          + "outcome is counted with the checkpoint's own definition")
    }
    let verifier: PKPDSafetyVerifier
    do {
      verifier = try PKPDSafetyVerifier(
        checkpoint: checkpoint, exposureThresholds: thresholds, configuration: configuration,
        checkpointDirectory: checkpointDirectory)
    } catch {
      throw CommandError.invalidInput("\(path): \(error)")
    }
    let baselines = try verifier.environment.makeEnvironment(
      batchSize: 1, streamIdentifier: 0, population: verifier.sites[0].population
    ).baselineNames
    let policyName = try parsed.choice("policy", from: ["learned"] + baselines)
    var report: SafetyReport
    do {
      report =
        policyName == "learned"
        ? try verifier.verify(.trained(checkpoint))
        : try verifier.verifyBaseline(named: policyName)
    } catch {
      throw CommandError.failure("verification of \(path) failed to run: \(error)")
    }
    report.notes = notes + report.notes
    try VerifyCommand.printReport(
      report, checkpoint: checkpoint, path: path, json: parsed.flag("json"))
  }
}
