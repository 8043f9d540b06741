import Foundation
import Testing

@testable import TitrateCheckpoint

/// Repository root, found from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs `scripts/checkpoint_interop.py` with `arguments` and returns its
/// standard output; records an issue with standard error on failure.
private func runInteropScript(_ arguments: [String]) throws -> Data {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments =
    ["python3", repositoryRoot.appendingPathComponent("scripts/checkpoint_interop.py").path]
    + arguments
  let output = Pipe()
  let errors = Pipe()
  process.standardOutput = output
  process.standardError = errors
  try process.run()
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = errors.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  if process.terminationStatus != 0 {
    let errorText = String(decoding: errorData, as: UTF8.self)
    let message: String =
      "checkpoint_interop.py \(arguments) exited with \(process.terminationStatus); it needs "
      + "python3 with numpy and h5py:\n" + errorText
    Issue.record(Comment(rawValue: message))
  }
  return outputData
}

/// One entry of the script's JSON output; numbers are strings.
private struct DumpedEntry: Decodable {
  var dtype: String
  var shape: [Int]
  var values: [String]
}

private struct Dump: Decodable {
  var seal_valid: Bool?
  var attributes: [String: AttributeValue]
  var entries: [String: DumpedEntry]

  enum AttributeValue: Decodable, Equatable {
    case integer(Int)
    case text(String)

    init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let integer = try? container.decode(Int.self) {
        self = .integer(integer)
      } else {
        self = .text(try container.decode(String.self))
      }
    }
  }
}

/// Converts a dumped entry into the value Titrate should hold.
private func checkpointValue(_ entry: DumpedEntry) throws -> CheckpointValue {
  func parse<Number>(_ parse: (String) -> Number?) throws -> [Number] {
    try entry.values.map { try #require(parse($0), "value \($0) of \(entry.dtype)") }
  }
  switch entry.dtype {
  case "float32": return .float32(CheckpointArray(shape: entry.shape, values: try parse { Float($0) }))
  case "float64": return .float64(CheckpointArray(shape: entry.shape, values: try parse { Double($0) }))
  case "int64": return .int64(CheckpointArray(shape: entry.shape, values: try parse { Int64($0) }))
  case "uint64": return .uint64(CheckpointArray(shape: entry.shape, values: try parse { UInt64($0) }))
  case "string": return entry.shape.isEmpty ? .string(entry.values[0]) : .strings(entry.values)
  default:
    Issue.record("unexpected dtype \(entry.dtype)")
    return .strings([])
  }
}

@Suite("Checkpoint h5py interop")
struct CheckpointInteropTests {
  @Test func h5pyReadsTitrateFile() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("titrate.h5")
    let contents = sampleContents()
    try CheckpointFile.write(contents, to: url)

    let dump = try JSONDecoder().decode(Dump.self, from: try runInteropScript(["dump", "--json", url.path]))
    // Python's hashlib confirms the seal written with this package's SHA-256.
    #expect(dump.seal_valid == true)
    #expect(dump.attributes["format_version"] == .integer(3))
    #expect(dump.attributes["program_version"] == .text("0.1.0-test"))
    #expect(dump.attributes["created_utc"] == .text("2025-01-31T09:30:00Z"))
    #expect(dump.entries.keys.sorted() == contents.paths.sorted())
    for (path, entry) in dump.entries {
      #expect(try checkpointValue(entry) == contents[path], "entry \(path)")
    }
  }

  @Test func titrateReadsH5pyFile() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("h5py.h5")
    let manifest = try JSONDecoder().decode(
      Dump.self, from: try runInteropScript(["write-sample", url.path]))
    let loaded = try CheckpointFile.read(from: url)

    #expect(manifest.seal_valid == nil)
    #expect(loaded.formatVersion == 2)
    #expect(loaded.programVersion == "h5py-sample")
    #expect(loaded.createdUTC == "2025-02-01T00:00:00Z")
    #expect(loaded.paths.sorted() == manifest.entries.keys.sorted())
    for (path, entry) in manifest.entries {
      #expect(loaded[path] == (try checkpointValue(entry)), "entry \(path)")
    }
    // Checks that do not depend on the script's own description.
    #expect(try loaded.requireString("configuration") == #"{"rounds": 5, "site": "Zürich"}"#)
    #expect(try loaded.requireStrings("sites/names") == ["site_0", "東京"])
    #expect(try loaded.requireScalar("training/round", of: Int64.self) == 5)
    #expect(try loaded.requireUInt64("rng/state", shape: [2]) == [UInt64.max, 1])
    #expect(try loaded.requireFloat32("policy/layer_0/weight", shape: [3, 4])[3] == 1)
  }
}
