import Foundation
import Testing
@testable import TitrateHDF5

@testable import TitrateCheckpoint

/// Contents with every element type, ranks 0 to 3, empty arrays, special
/// floating-point values and non-ASCII strings.
func sampleContents() -> CheckpointContents {
  var contents = CheckpointContents(
    formatVersion: 3, programVersion: "0.1.0-test", createdUTC: "2025-01-31T09:30:00Z")
  contents.set("configuration", string: #"{"learningRate": 0.0003, "name": "Prüfung ✓"}"#)
  contents.set(
    "policy/layer_0/weight", shape: [3, 2],
    values: [Float](arrayLiteral: 0.5, -1.25, .pi, .leastNonzeroMagnitude, .infinity, -0.0))
  contents.set("policy/layer_0/bias", shape: [3], values: [Float](arrayLiteral: 1, 2, 3))
  contents.set("policy/log_std", shape: [1], values: [Float(-0.5)])
  contents.set("policy/empty", shape: [0, 4], values: [Float]())
  contents.set("metrics/mean_return", shape: [4], values: [1.5, -2.0, .nan, .greatestFiniteMagnitude])
  contents.set("metrics/scalar", shape: [], values: [Double(-7.25)])
  contents.set("training/round", shape: [], values: [Int64(12)])
  contents.set("training/cube", shape: [2, 2, 2], values: (0..<8).map { Int64($0) - 4 })
  contents.set("rng/state", shape: [4], values: [UInt64.max, 0, 1, 0x9E37_79B9_7F4A_7C15])
  contents.set("rng/empty", shape: [0], values: [UInt64]())
  contents["sites/names"] = .strings(["site_0", "Zürich", "", "東京 💊"])
  contents["sites/none"] = .strings([])
  contents.set("environment/definition", string: "")
  return contents
}

@Suite("Checkpoint round trip")
struct CheckpointRoundTripTests {
  @Test func everyTypeAndRankRoundTrips() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("sample.h5")
    let contents = sampleContents()
    try CheckpointFile.write(contents, to: url)
    let loaded = try CheckpointFile.read(from: url)
    #expect(loaded.formatVersion == 3)
    #expect(loaded.programVersion == "0.1.0-test")
    #expect(loaded.createdUTC == "2025-01-31T09:30:00Z")
    #expect(loaded.paths == contents.paths)
    for path in contents.paths {
      #expect(loaded[path] == contents[path], "entry \(path)")
    }
    #expect(loaded == contents)
  }

  @Test func fileHasRootAttributesAndChecksums() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("layout.h5")
    try CheckpointFile.write(sampleContents(), to: url)
    let root = try HDF5File.open(at: url.path).rootGroup()
    #expect(try root.int64Attribute("format_version") == 3)
    #expect(try root.stringAttribute("program_version") == "0.1.0-test")
    #expect(try root.stringAttribute("created_utc") == "2025-01-31T09:30:00Z")
    #expect(try root.openDataset("policy/layer_0/weight").hasFletcher32Checksum())
    #expect(try root.openDataset("rng/state").hasFletcher32Checksum())
    // Scalars and empty arrays cannot be chunked, so they carry no checksum.
    #expect(try !root.openDataset("training/round").hasFletcher32Checksum())
    #expect(try !root.openDataset("policy/empty").hasFletcher32Checksum())
  }

  @Test func largeArraySpansSeveralChunks() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("large.h5")
    var contents = CheckpointContents(formatVersion: 1, programVersion: "test")
    let values = (0..<(700 * 500)).map { Float($0) * 0.5 }
    contents.set("big", shape: [700, 500], values: values)
    try CheckpointFile.write(contents, to: url)
    #expect(try CheckpointFile.read(from: url).requireFloat32("big", shape: [700, 500]) == values)
  }

  @Test func overwriteReplacesOldContents() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("replace.h5")
    try CheckpointFile.write(sampleContents(), to: url)
    var second = CheckpointContents(formatVersion: 4, programVersion: "0.2.0")
    second.set("only", shape: [1], values: [Int64(1)])
    try CheckpointFile.write(second, to: url)
    #expect(try CheckpointFile.read(from: url) == second)
    #expect(try directory.fileNames() == ["replace.h5"])
  }

  @Test func leadingSlashIsDropped() {
    var contents = CheckpointContents(formatVersion: 1, programVersion: "test")
    contents.set("/training/round", shape: [1], values: [Int64(5)])
    #expect(contents.paths == ["training/round"])
    #expect(contents["/training/round"] == contents["training/round"])
  }

  @Test func chunkShapeStaysUnderLimit() {
    #expect(chunkShape(for: [64, 8], elementSizeBytes: 4) == [64, 8])
    let chunk = chunkShape(for: [4096, 4096], elementSizeBytes: 4)
    #expect(chunk.reduce(4, *) <= 1 << 20)
    #expect(chunk.allSatisfy { $0 >= 1 })
  }
}
