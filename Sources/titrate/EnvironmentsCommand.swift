import Foundation
import TitrateEnvironments

/// `titrate environments`: the definitions in the environments folder.
enum EnvironmentsCommand {
  /// Lists the definitions in the `pkpd` subfolder (warfarin, propofol,
  /// glucose),
  /// which `train` and `evaluate` accept by path.
  static func listLibraryEnvironments(in folder: URL) {
    guard let files = try? EnvironmentDefinition.definitionFiles(in: folder), !files.isEmpty
    else { return }
    print("")
    print("other environments in \(folder.path):")
    for file in files {
      let stem = file.deletingPathExtension().lastPathComponent
      if let warfarin = try? WarfarinDefinition.load(from: file) {
        print(
          "  \(stem): \(warfarin.description) Train and evaluate it with --environment "
            + "\(file.path). (Docs/environments/warfarin.md)")
      } else if let propofol = try? PropofolDefinition.load(from: file) {
        print(
          "  \(stem): \(propofol.description) Train and evaluate it with --environment "
            + "\(file.path). (Docs/environments/propofol.md)")
      } else if let glucose = try? GlucoseDefinition.load(from: file) {
        print(
          "  \(stem): \(glucose.description) Sites: children, adolescents, adults. Train and "
            + "evaluate it with --environment \(file.path). (Docs/environments/glucose.md)")
      } else if let linear = try? LinearDefinition.load(from: file) {
        print(
          "  \(stem): \(linear.description) Baselines: "
            + linear.baselineNames.joined(separator: ", ")
            + ". Train and evaluate it with --environment \(file.path). "
            + "(Docs/environments/linear-format.md)")
      } else {
        print("  \(stem): not a warfarin, propofol, glucose or linear definition this build reads")
      }
    }
  }

  static let usage = "titrate environments [--environments-dir DIR]"

  static let options: [OptionSpecification] = [
    .init(
      name: "environments-dir", valueName: "DIR", help: "folder of environment definitions",
      defaultValue: nil)
  ]

  static func run(_ arguments: [String]) throws {
    guard
      let parsed = try parseCommandLine(
        command: "environments", arguments: arguments, usage: usage,
        summary:
          "List the environment definitions, their site populations with the population PK model each uses, and the dosing schedule. Invalid files are listed with the reason.",
        options: options)
    else { return }
    try parsed.checkPositionals(maximum: 0, usage: usage)
    let catalog = try EnvironmentCatalog(explicitDirectory: parsed.string("environments-dir"))
    let files: [URL]
    do {
      files = try EnvironmentDefinition.definitionFiles(in: catalog.directory)
    } catch {
      throw CommandError.invalidInput("\(error)")
    }
    guard !files.isEmpty else {
      throw CommandError.invalidInput(
        "no environment definitions (*.json) found in \(catalog.directory.path); pass the folder of the definitions with --environments-dir"
      )
    }
    print("environments in \(catalog.directory.path):")
    var invalid = 0
    for file in files {
      let stem = file.deletingPathExtension().lastPathComponent
      do {
        let definition = try EnvironmentDefinition.load(from: file)
        let dosing = definition.dosing
        print("")
        print("\(stem): \(definition.description)")
        print(
          String(
            format: "  decisions every %g h over %g h; doses 0-%g mg in %g mg steps; sha256 %@",
            dosing.decisionIntervalHours, dosing.episodeHours, dosing.maximumDoseLevelMilligrams,
            dosing.doseLevelStepMilligrams, String(definition.contentHashSHA256.prefix(12))))
        for name in definition.populationNames {
          let population = definition.populations[name]!
          var details = "model \(population.model)"
          if let error = population.measurementError {
            details +=
              ", levels measured with \(error.additiveMilligramsPerLiter) mg/L + "
              + "\(error.proportional * 100) %"
          }
          print("  population \(name) (\(details))")
        }
        for (key, model) in definition.models.sorted(by: { $0.key < $1.key }) {
          print("  model \(key): \(model.compartments)-compartment, \(model.source)")
        }
      } catch {
        invalid += 1
        print("")
        print("\(stem): invalid: \(error)")
      }
    }
    listLibraryEnvironments(in: catalog.directory.appendingPathComponent("pkpd"))
    if invalid > 0 {
      throw CommandError.invalidInput(
        "\(invalid) of \(files.count) environment definitions are invalid")
    }
  }
}
