import Foundation
import TitrateCheckpoint

/// Starts `titrate aggregator`, `titrate site` and `titrate keys` processes
/// on 127.0.0.1 for the network tests, with their output in files.
enum NetworkLaunch {
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

  /// A tiny training configuration shared by the tests.
  static let tinyTraining = [
    "--patients-per-site", "16", "--minibatch-size", "32", "--update-epochs", "1",
    "--hidden-sizes", "8,8", "--threads", "1", "--seed", "5",
  ]

  /// A running process and the files its output goes to.
  final class Running {
    let process: Process
    let outputURL: URL
    let errorsURL: URL

    init(_ arguments: [String], folder: URL, label: String) throws {
      outputURL = folder.appendingPathComponent("\(label).out")
      errorsURL = folder.appendingPathComponent("\(label).err")
      _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
      _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)
      process = Process()
      process.executableURL = NetworkLaunch.executable
      process.arguments = arguments
      process.currentDirectoryURL = NetworkLaunch.repositoryRoot
      process.standardOutput = try FileHandle(forWritingTo: outputURL)
      process.standardError = try FileHandle(forWritingTo: errorsURL)
      try process.run()
    }

    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOf: errorsURL, encoding: .utf8)) ?? "" }

    /// Waits until the standard output contains `text`; false on timeout
    /// or when the process ended first.
    func waitForOutput(_ text: String, seconds: Double = 60) -> Bool {
      let deadline = Date().addingTimeInterval(seconds)
      while Date() < deadline {
        if output.contains(text) { return true }
        if !process.isRunning { return output.contains(text) }
        Thread.sleep(forTimeInterval: 0.05)
      }
      return false
    }

    /// Waits for the exit and returns the status, or nil after `seconds`
    /// (the process is then killed).
    func waitForExit(seconds: Double = 120) -> Int32? {
      let deadline = Date().addingTimeInterval(seconds)
      while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
      if process.isRunning {
        kill()
        return nil
      }
      return process.terminationStatus
    }

    /// Ends the process at once (SIGKILL), as a crash would.
    func kill() {
      if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
    }

    /// The endpoint the aggregator printed after binding.
    var endpoint: String? {
      guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") })
      else { return nil }
      return line.split(separator: " ").dropFirst(2).first.map(String.init)
    }
  }

  /// Runs `titrate arguments` to the end and returns status and output.
  static func titrate(_ arguments: [String], folder: URL, label: String) throws -> (
    status: Int32, output: String, errors: String
  ) {
    let running = try Running(arguments, folder: folder, label: label)
    let status = running.waitForExit() ?? -1
    return (status, running.output, running.errors)
  }

  static func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "titrate-network-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return folder
  }

  /// Writes key pairs for `names` into `folder/keys`, and a folder
  /// `folder/allow` with the public keys of `allowed`.
  static func makeKeys(_ names: [String], allowed: [String], folder: URL) throws {
    let keys = folder.appendingPathComponent("keys")
    let allow = folder.appendingPathComponent("allow")
    for directory in [keys, allow] {
      try FileManager.default.createDirectory(
        at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
    for name in names {
      let run = try titrate(
        ["keys", "generate", "--output", keys.path, "--name", name], folder: folder,
        label: "keys-\(name)")
      precondition(run.status == 0, "keys generate failed: \(run.errors)")
    }
    for name in allowed {
      try FileManager.default.copyItem(
        at: keys.appendingPathComponent("\(name).pub"),
        to: allow.appendingPathComponent("\(name).pub"))
    }
  }

  /// Returns the arguments of `titrate site` for `name`, with fast heartbeats.
  static func siteArguments(
    _ name: String, keyName: String? = nil, endpoint: String, folder: URL,
    aggregatorTimeout: Int = 60
  ) -> [String] {
    let keys = folder.appendingPathComponent("keys")
    return [
      "site", "--site", name, "--connect", endpoint,
      "--key", keys.appendingPathComponent("\(keyName ?? name).key").path,
      "--server-public", keys.appendingPathComponent("server.pub").path,
      "--heartbeat-interval", "0.2", "--aggregator-timeout", "\(aggregatorTimeout)",
    ]
  }

  /// Returns the arguments of `titrate aggregator` binding a free loopback
  /// port, waiting `joinTimeoutSeconds` for the sites to join.
  static func aggregatorArguments(
    folder: URL, output: URL, bind: String = "tcp://127.0.0.1:0", joinTimeoutSeconds: Int = 60
  ) -> [String] {
    let keys = folder.appendingPathComponent("keys")
    return [
      "aggregator", "--bind", bind,
      "--server-key", keys.appendingPathComponent("server.key").path,
      "--allow", folder.appendingPathComponent("allow").path,
      "--output", output.path, "--heartbeat-interval", "0.2",
      "--join-timeout", "\(joinTimeoutSeconds)",
    ]
  }

  /// Returns the checkpoint entries that differ, leaving out wall-clock
  /// measurements (secure aggregation's `protocolSeconds` too) and the per-site learner state under `sites/`, which a
  /// network run keeps at the sites. The configurations are compared
  /// without the update compression, which only `titrate train` records.
  static func differingEntries(_ first: URL, _ second: URL) throws -> [String] {
    let left = try CheckpointFile.read(from: first)
    let right = try CheckpointFile.read(from: second)
    var differing: [String] = []
    for path in Set(left.paths).union(right.paths).sorted() where !path.hasPrefix("sites/") {
      switch path {
      case "metrics/steps_per_second":
        continue
      case "configuration":
        if try configurationWithoutEncoding(left[path])
          != configurationWithoutEncoding(right[path])
        {
          differing.append(path)
        }
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

  /// Returns the stored configuration without `updateCompression`, which
  /// `titrate train` records and a network aggregator leaves out, because
  /// its sites each choose their encoding.
  private static func configurationWithoutEncoding(
    _ value: CheckpointValue?
  ) throws -> NSDictionary {
    guard case .string(let text)? = value else { return [:] }
    let stored = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! NSDictionary
    let copy = stored.mutableCopy() as! NSMutableDictionary
    copy.removeObject(forKey: "updateCompression")
    return copy
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

  /// Reads the history records of a checkpoint, one dictionary per round.
  static func history(_ url: URL) throws -> [[String: Any]] {
    let contents = try CheckpointFile.read(from: url)
    guard case .string(let text)? = contents["metrics/history_jsonl"] else { return [] }
    return try text.split(separator: "\n").map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
  }
}
