import Foundation
import TitrateCheckpoint

/// Runs the built `titrate` executable, alone or under `mpirun`, for the
/// MPI end-to-end tests.
enum MPILaunch {
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The executable built next to the test bundle (`.build/<config>/titrate`).
  static var executable: URL {
    var directory = Bundle.main.bundleURL
    if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
    let candidate = directory.appendingPathComponent("titrate")
    if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
    return repositoryRoot.appendingPathComponent(".build/debug/titrate")
  }

  /// `mpirun` on the PATH, or nil when Open MPI's launcher is not
  /// installed.
  static let mpirun: URL? = program(named: "mpirun")

  /// Returns the executable `name` from the PATH (or /usr/sbin, where
  /// Debian puts daemons), or nil when it is not installed.
  static func program(named name: String) -> URL? {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin"
    for folder in path.split(separator: ":") {
      let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
  }

  struct Run {
    var status: Int32
    var output: String
    var errors: String
  }

  /// Runs `titrate arguments` without a launcher.
  static func titrate(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
    try run(executable, arguments, environment: environment)
  }

  /// Runs `titrate arguments` on `ranks` processes with
  /// `mpirun --allow-run-as-root --oversubscribe`, which this machine needs
  /// as root and with fewer cores than ranks.
  static func mpirunTitrate(ranks: Int, _ arguments: [String]) throws -> Run {
    try run(
      mpirun!,
      ["--allow-run-as-root", "--oversubscribe", "-n", "\(ranks)", executable.path] + arguments)
  }

  /// Runs an MPMD job: one rank per argument list.
  static func mpirunTitrate(perRank: [[String]]) throws -> Run {
    var arguments = ["--allow-run-as-root", "--oversubscribe"]
    for (index, rankArguments) in perRank.enumerated() {
      if index > 0 { arguments.append(":") }
      arguments += ["-n", "1", executable.path] + rankArguments
    }
    return try run(mpirun!, arguments)
  }

  /// Runs a program with its output in files, so a full pipe cannot stall
  /// it.
  static func run(
    _ program: URL, _ arguments: [String], environment: [String: String] = [:]
  ) throws -> Run {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let outputURL = folder.appendingPathComponent("stdout")
    let errorsURL = folder.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: outputURL)
    process.standardError = try FileHandle(forWritingTo: errorsURL)
    try process.run()
    process.waitUntilExit()
    return Run(
      status: process.terminationStatus,
      output: try String(contentsOf: outputURL, encoding: .utf8),
      errors: try String(contentsOf: errorsURL, encoding: .utf8))
  }

  static func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "titrate-mpi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
  }

  /// Returns the checkpoint entries that differ between two files, leaving
  /// out wall-clock measurements (`stepsPerSecond`, `secondsElapsed`,
  /// `secondsTraining` and secure aggregation's `protocolSeconds` in the
  /// history, and `metrics/steps_per_second`),
  /// which differ between any two runs.
  static func differingEntries(_ first: URL, _ second: URL) throws -> [String] {
    let left = try CheckpointFile.read(from: first)
    let right = try CheckpointFile.read(from: second)
    var differing: [String] = []
    for path in Set(left.paths).union(right.paths).sorted() {
      switch path {
      case "metrics/steps_per_second":
        continue
      case "metrics/history_jsonl":
        if try historyWithoutTiming(left[path]) != historyWithoutTiming(right[path]) {
          differing.append(path)
        }
      default:
        if left[path] != right[path] { differing.append(path) }
      }
    }
    return differing
  }

  private static func historyWithoutTiming(_ value: CheckpointValue?) throws -> [NSDictionary] {
    guard case .string(let text)? = value else { return [] }
    return try text.split(separator: "\n").map { line in
      let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! NSDictionary
      let copy = record.mutableCopy() as! NSMutableDictionary
      copy.removeObjects(forKeys: ["stepsPerSecond", "secondsElapsed"])
      if let secure = copy["secureAggregation"] as? NSDictionary {
        let secureCopy = secure.mutableCopy() as! NSMutableDictionary
        secureCopy.removeObject(forKey: "protocolSeconds")
        copy["secureAggregation"] = secureCopy
      }
      let sites = (copy["sites"] as! [NSDictionary]).map { site -> NSDictionary in
        let siteCopy = site.mutableCopy() as! NSMutableDictionary
        siteCopy.removeObject(forKey: "secondsTraining")
        return siteCopy
      }
      copy["sites"] = sites
      return copy
    }
  }
}
