import Foundation
import TitrateEnvironments
import TitrateFederation

/// Finds and loads environment definitions for the CLI.
///
/// A name such as `vancomycin` is looked up as `<name>.json` in the
/// environments folder: `--environments-dir`, else `$TITRATE_ENVIRONMENTS`,
/// else `./Environments`, else the `Environments` folder of the source tree
/// the executable was built in. A value ending in `.json` is a file path.
struct EnvironmentCatalog {
  let directory: URL

  init(explicitDirectory: String?) throws {
    let fileManager = FileManager.default
    var candidates: [URL] = []
    if let explicitDirectory {
      candidates.append(URL(fileURLWithPath: explicitDirectory))
    } else {
      if let fromEnvironment = ProcessInfo.processInfo.environment["TITRATE_ENVIRONMENTS"] {
        candidates.append(URL(fileURLWithPath: fromEnvironment))
      }
      candidates.append(URL(fileURLWithPath: "Environments"))
      // .build/<configuration>/titrate -> source root/Environments
      let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      candidates.append(
        executable.deletingLastPathComponent().deletingLastPathComponent()
          .deletingLastPathComponent().deletingLastPathComponent()
          .appendingPathComponent("Environments"))
    }
    var isDirectory: ObjCBool = false
    guard
      let found = candidates.first(where: {
        fileManager.fileExists(atPath: $0.path, isDirectory: &isDirectory) && isDirectory.boolValue
      })
    else {
      throw CommandError.invalidInput(
        "environments folder not found (looked in: \(candidates.map(\.path).joined(separator: ", "))); "
          + "pass --environments-dir or set TITRATE_ENVIRONMENTS")
    }
    directory = found
  }

  /// Returns the definition file for a name or path.
  func url(for nameOrPath: String) -> URL {
    if nameOrPath.hasSuffix(".json") { return URL(fileURLWithPath: nameOrPath) }
    return directory.appendingPathComponent("\(nameOrPath).json")
  }

  /// The subfolder of warfarin, propofol, glucose and linear definitions,
  /// which `titrate environments` lists.
  var libraryDirectory: URL { directory.appendingPathComponent("pkpd") }

  /// Returns where a warfarin, propofol, glucose or linear definition may
  /// be, in lookup order. A path ending in `.json` is used as given, and a
  /// name is looked up in `libraryDirectory`, then in the folder itself.
  func libraryURLs(for nameOrPath: String) -> [URL] {
    if nameOrPath.hasSuffix(".json") { return [url(for: nameOrPath)] }
    return [libraryDirectory.appendingPathComponent("\(nameOrPath).json"), url(for: nameOrPath)]
  }

  /// Rejects a definition whose `kind` this vancomycin-format path cannot
  /// read, naming the kind and what to do instead.
  static func rejectOtherKinds(_ text: String, path: String) throws {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
      let kind = object["kind"]
    else { return }
    if let name = kind as? String, PKPDEnvironment.kinds.contains(name) {
      throw CommandError.invalidInput(
        "\(path) defines the \(name) environment, which this command does not support yet "
          + "(it reads vancomycin-format definitions); use titrate train or titrate evaluate "
          + "with it")
    }
    throw CommandError.invalidInput(
      "\(path): kind is \(kind), which is not known; use \"warfarin\", \"propofol\", "
        + "\"glucose\" or \"linear\", or "
        + "remove the key for a vancomycin-format definition")
  }

  /// Loads and validates a definition, with its exact text for checkpoints.
  func load(_ nameOrPath: String) throws -> (EnvironmentDefinition, StoredEnvironment) {
    let url = url(for: nameOrPath)
    guard FileManager.default.fileExists(atPath: url.path) else {
      let known =
        (try? EnvironmentDefinition.definitionFiles(in: directory))?
        .map { $0.deletingPathExtension().lastPathComponent } ?? []
      let others =
        (try? EnvironmentDefinition.definitionFiles(in: libraryDirectory))?.map(\.path) ?? []
      throw CommandError.invalidInput(
        "environment '\(nameOrPath)' not found at \(url.path); known environments: "
          + (known.isEmpty ? "none" : known.joined(separator: ", "))
          + (others.isEmpty
            ? "" : "; give the others by path: " + others.joined(separator: ", ")))
    }
    if let text = try? String(contentsOf: url, encoding: .utf8) {
      try Self.rejectOtherKinds(text, path: url.path)
    }
    do {
      let definition = try EnvironmentDefinition.load(from: url)
      let text = try String(contentsOf: url, encoding: .utf8)
      return (definition, StoredEnvironment(name: definition.name, definitionJSON: text))
    } catch {
      throw CommandError.invalidInput("\(url.path): \(error)")
    }
  }
}

/// Decodes a stored definition (from a checkpoint) back into its type.
func decodeStoredDefinition(_ stored: StoredEnvironment) throws -> EnvironmentDefinition {
  do {
    return try EnvironmentDefinition.decode(from: Data(stored.definitionJSON.utf8))
  } catch {
    if let kind = PKPDEnvironment.kind(of: stored.definitionJSON) {
      throw CommandError.invalidInput(
        "the checkpoint was trained on the \(kind) environment, which this command does not "
          + "support yet; use titrate evaluate or titrate inspect with it")
    }
    throw CommandError.invalidInput(
      "the environment definition stored in the checkpoint does not load: \(error)")
  }
}

/// Decodes the vancomycin definition of a checkpoint and checks that its
/// network reads the observation rows this program writes for it.
func decodeCheckedDefinition(of policy: TrainedPolicy) throws -> EnvironmentDefinition {
  let definition = try decodeStoredDefinition(policy.environment)
  do {
    try policy.requireObservationLayout(of: definition)
  } catch {
    throw CommandError.invalidInput("\(error)")
  }
  return definition
}

/// Returns the dose action mode that produces `actionSpace`. A checkpoint
/// stores the space, and the environment is built from the mode.
func doseActionMode(for actionSpace: ActionSpace) -> DoseActionMode {
  switch actionSpace {
  case .discrete: return .discreteLevels
  case .continuous: return .continuousMilligrams
  }
}

/// Returns the site populations used when `--sites N` is given without
/// `--populations`: the definition's populations in alphabetical order,
/// repeated when N is larger.
func defaultPopulations(_ definition: EnvironmentDefinition, siteCount: Int) -> [String] {
  let names = definition.populationNames
  return (0..<siteCount).map { names[$0 % names.count] }
}
