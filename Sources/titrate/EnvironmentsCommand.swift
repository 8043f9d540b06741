import Foundation
import TitrateEnvironments

/// `titrate environments`: the definitions in the environments folder.
enum EnvironmentsCommand {
  /// Lists the definitions in the `pkpd` subfolder (warfarin, propofol,
  /// glucose, linear kinds), which `train` and `evaluate` accept by path.
  /// Returns how many files it listed and how many of them are invalid;
  /// each invalid one is listed with the loader's reason.
  static func listLibraryEnvironments(in folder: URL) -> (listed: Int, invalid: Int) {
    guard let files = try? EnvironmentDefinition.definitionFiles(in: folder), !files.isEmpty
    else { return (0, 0) }
    print("")
    print("other environments in \(folder.path):")
    var invalid = 0
    for file in files {
      let stem = file.deletingPathExtension().lastPathComponent
      guard let text = try? String(contentsOf: file, encoding: .utf8),
        PKPDEnvironment.kind(of: text) != nil
      else {
        invalid += 1
        print(
          "  \(stem): invalid: no \"kind\" of "
            + PKPDEnvironment.kinds.joined(separator: ", ")
            + " at the top level; vancomycin definitions belong in \(folder.deletingLastPathComponent().path)"
        )
        continue
      }
      if !printLibraryDefinition(text, file: file, prefix: "  \(stem): ") { invalid += 1 }
    }
    return (files.count, invalid)
  }

  /// Decodes a warfarin, propofol, glucose or linear definition and prints
  /// its summary, or the loader's reason when it is invalid. Returns
  /// whether it is valid.
  static func printLibraryDefinition(_ text: String, file: URL, prefix: String) -> Bool {
    do {
      let environment = try PKPDEnvironment.decode(
        text, relativeTo: file.deletingLastPathComponent())!
      print(prefix + summary(environment, file: file))
      return true
    } catch {
      print(prefix + "invalid: \(error)")
      return false
    }
  }

  /// Describes a warfarin, propofol, glucose or linear definition in one line.
  static func summary(_ environment: PKPDEnvironment, file: URL) -> String {
    let use = "Train and evaluate it with --environment \(file.path)."
    switch environment {
    case .warfarin(let definition):
      return "\(definition.description) \(use) (Docs/environments/warfarin.md)"
    case .propofol(let definition):
      return "\(definition.description) \(use) (Docs/environments/propofol.md)"
    case .glucose(let definition):
      return
        "\(definition.description) Sites: children, adolescents, adults. \(use) "
        + "(Docs/environments/glucose.md)"
    case .linear(let definition):
      return
        "\(definition.description) Baselines: "
        + definition.baselineNames.joined(separator: ", ")
        + ". \(use) (Docs/environments/linear-format.md)"
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
      // A definition of another kind is read by its own loader, so its
      // problems are reported against its own format.
      if let text = try? String(contentsOf: file, encoding: .utf8),
        PKPDEnvironment.kind(of: text) != nil
      {
        print("")
        if !printLibraryDefinition(text, file: file, prefix: "\(stem): ") { invalid += 1 }
        continue
      }
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
    let library = listLibraryEnvironments(in: catalog.libraryDirectory)
    if invalid + library.invalid > 0 {
      throw CommandError.invalidInput(
        "\(invalid + library.invalid) of \(files.count + library.listed) environment "
          + "definitions are invalid")
    }
  }
}
