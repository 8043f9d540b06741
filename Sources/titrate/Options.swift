import Foundation

/// Process exit codes, documented in Docs/cli.md.
enum ExitCode: Int32 {
  case success = 0
  /// Training or evaluation ran but failed (all updates rejected, I/O).
  case failure = 1
  /// The command line is invalid: unknown command or option, missing or
  /// malformed value.
  case usage = 2
  /// An input file is invalid: environment definition, checkpoint.
  case invalidInput = 3
  /// `titrate verify` ran and at least one safety check failed.
  case checksFailed = 4
}

/// A failure the CLI reports on stderr before exiting with `code`.
struct CommandError: Error, CustomStringConvertible {
  var message: String
  var code: ExitCode

  static func usage(_ message: String) -> CommandError {
    CommandError(message: message, code: .usage)
  }

  static func invalidInput(_ message: String) -> CommandError {
    CommandError(message: message, code: .invalidInput)
  }

  static func failure(_ message: String) -> CommandError {
    CommandError(message: message, code: .failure)
  }

  var description: String { message }
}

/// One option a command accepts.
struct OptionSpecification {
  var name: String
  /// Placeholder for the value, nil for a flag without a value.
  var valueName: String?
  var help: String
  var defaultValue: String?
}

/// The parsed command line of one subcommand: options by name and
/// positional arguments in order. Every lookup converts and range-checks
/// the value, and reports the option, the value and the fix on failure.
struct ParsedOptions {
  let command: String
  var values: [String: String] = [:]
  var flags: Set<String> = []
  /// Options given on the command line (not filled in from defaults).
  var explicitOptions: Set<String> = []
  var positionals: [String] = []

  init(command: String, arguments: [String], specifications: [OptionSpecification]) throws {
    self.command = command
    let byName = Dictionary(uniqueKeysWithValues: specifications.map { ($0.name, $0) })
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      guard argument.hasPrefix("--") else {
        positionals.append(argument)
        continue
      }
      var name = String(argument.dropFirst(2))
      var inlineValue: String?
      if let equals = name.firstIndex(of: "=") {
        inlineValue = String(name[name.index(after: equals)...])
        name = String(name[..<equals])
      }
      guard !explicitOptions.contains(name) else {
        throw CommandError.usage(
          "option '--\(name)' is given twice; give it once")
      }
      guard let specification = byName[name] else {
        throw CommandError.usage(
          "unknown option '--\(name)' for 'titrate \(command)'; run 'titrate \(command) --help' for the options"
        )
      }
      if specification.valueName == nil {
        guard inlineValue == nil else {
          throw CommandError.usage("option '--\(name)' takes no value, got '\(inlineValue!)'")
        }
        flags.insert(name)
        explicitOptions.insert(name)
        continue
      }
      explicitOptions.insert(name)
      if let inlineValue {
        values[name] = inlineValue
      } else {
        // An option where the value should be means the value is missing
        // (values never start with "--"; negative numbers have one dash).
        guard index < arguments.count, !arguments[index].hasPrefix("--") else {
          throw CommandError.usage(
            "option '--\(name)' needs a value (\(specification.valueName!)); for example '--\(name) \(specification.defaultValue ?? "VALUE")'"
          )
        }
        values[name] = arguments[index]
        index += 1
      }
    }
    for specification in specifications where values[specification.name] == nil {
      if let defaultValue = specification.defaultValue, specification.valueName != nil {
        values[specification.name] = defaultValue
      }
    }
  }

  func flag(_ name: String) -> Bool { flags.contains(name) }

  func string(_ name: String) -> String? { values[name] }

  func requiredString(_ name: String) throws -> String {
    guard let value = values[name] else {
      throw CommandError.usage("'titrate \(command)' needs '--\(name)'")
    }
    return value
  }

  func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int {
    let text = try requiredString(name)
    guard let value = Int(text) else {
      throw CommandError.usage(
        "--\(name) '\(text)' is not an integer; give a whole number in \(range.lowerBound)...\(range.upperBound)"
      )
    }
    guard range.contains(value) else {
      throw CommandError.usage(
        "--\(name) \(value) is out of range; give a value in \(range.lowerBound)...\(range.upperBound)"
      )
    }
    return value
  }

  func optionalInteger(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
    values[name] == nil ? nil : try integer(name, in: range)
  }

  func double(_ name: String, in range: ClosedRange<Double>, unit: String = "") throws -> Double {
    let text = try requiredString(name)
    let allowed =
      "\(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound))"
      + (unit.isEmpty ? "" : " \(unit)")
    // Decimal notation only: Double(_:) would also read hexadecimal floats.
    guard !text.lowercased().contains("x"), let value = Double(text), value.isFinite else {
      throw CommandError.usage(
        "--\(name) '\(text)' is not a finite number; give a value in \(allowed)")
    }
    // The text as written, because a value that underflows, such as
    // 1e-400, reads back as 0.
    guard range.contains(value) else {
      throw CommandError.usage("--\(name) \(text) is out of range; give a value in \(allowed)")
    }
    return value
  }

  func optionalDouble(
    _ name: String, in range: ClosedRange<Double>, unit: String = ""
  ) throws -> Double? {
    values[name] == nil ? nil : try double(name, in: range, unit: unit)
  }

  /// Returns a comma-separated list, rejecting empty items.
  func list(_ name: String) throws -> [String]? {
    guard let text = values[name] else { return nil }
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    if items.contains(where: \.isEmpty) {
      throw CommandError.usage(
        "--\(name) '\(text)' has an empty item; separate the items with single commas")
    }
    return items
  }

  /// Returns an output file path whose folder exists and that is not a
  /// folder itself, checked before any work starts.
  func outputPath(_ name: String) throws -> String? {
    guard let path = values[name] else { return nil }
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    if path.isEmpty || path.hasSuffix("/")
      || (FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        && isDirectory.boolValue)
    {
      throw CommandError.usage("--\(name) '\(path)' is a folder; give a file path")
    }
    let folder = url.deletingLastPathComponent().path
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
      throw CommandError.usage(
        "--\(name) \(path): folder \(folder) not found; create it first")
    }
    guard isDirectory.boolValue else {
      throw CommandError.usage(
        "--\(name) \(path): \(folder) is a file, not a folder; give a path in a folder")
    }
    return path
  }

  func choice(_ name: String, from allowed: [String]) throws -> String {
    let value = try requiredString(name)
    guard allowed.contains(value) else {
      throw CommandError.usage(
        "--\(name) '\(value)' is not one of: \(allowed.joined(separator: ", "))")
    }
    return value
  }

  /// Rejects positional arguments beyond `maximum`.
  func checkPositionals(maximum: Int, usage: String) throws {
    if positionals.count > maximum {
      throw CommandError.usage(
        "unexpected argument '\(positionals[maximum])'; usage: \(usage)")
    }
  }
}

/// Formats a command's help text: usage line, summary and options table.
func helpText(
  usage: String, summary: String, options: [OptionSpecification], details: String = ""
) -> String {
  var lines = ["usage: \(usage)", "", summary, ""]
  if !options.isEmpty {
    lines.append("options:")
    for option in options {
      let left = "  --\(option.name)" + (option.valueName.map { " \($0)" } ?? "")
      let defaultNote = option.defaultValue.map { " (default: \($0))" } ?? ""
      let padded = left.padding(toLength: max(left.count + 2, 30), withPad: " ", startingAt: 0)
      lines.append(padded + option.help + defaultNote)
    }
    lines.append("  --help                      print this help")
  }
  if !details.isEmpty {
    lines.append("")
    lines.append(details)
  }
  return lines.joined(separator: "\n")
}

/// Writes a line to standard error.
func printError(_ message: String) {
  // Standard output is buffered when redirected; flushing it first keeps
  // the two streams in order when both go to one file.
  fflush(nil)
  FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Parses a subcommand's arguments, or prints its help and returns nil when
/// `--help` or `-h` is among them.
func parseCommandLine(
  command: String, arguments: [String], usage: String, summary: String,
  options: [OptionSpecification], details: String = ""
) throws -> ParsedOptions? {
  if arguments.contains("--help") || arguments.contains("-h") {
    print(helpText(usage: usage, summary: summary, options: options, details: details))
    return nil
  }
  return try ParsedOptions(command: command, arguments: arguments, specifications: options)
}

/// Formats a number without a trailing ".0" for whole values (400, 0.25).
func formatNumber(_ value: Double) -> String {
  value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}

/// Returns the absolute path of a file with `.` and `..` removed and
/// symbolic links resolved, in its folders and in the file itself when it
/// exists, so that two spellings of one file compare equal.
func resolvedFilePath(_ path: String) -> String {
  func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }
  let url = URL(fileURLWithPath: path).standardizedFileURL
  let folder = url.deletingLastPathComponent().path
  let file = URL(fileURLWithPath: realPath(folder) ?? folder)
    .appendingPathComponent(url.lastPathComponent).path
  return realPath(file) ?? file
}

/// Reports whether two paths name one file (see `resolvedFilePath`).
func sameFile(_ first: String, _ second: String) -> Bool {
  resolvedFilePath(first) == resolvedFilePath(second)
}
