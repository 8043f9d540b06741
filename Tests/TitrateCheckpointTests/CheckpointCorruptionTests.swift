import Foundation
import Testing
import TitrateHDF5

@testable import TitrateCheckpoint

/// A small checkpoint, so that sweeping its bytes stays fast.
private func smallContents() -> CheckpointContents {
  var contents = CheckpointContents(
    formatVersion: 1, programVersion: "0.1.0", createdUTC: "2025-01-31T09:30:00Z")
  contents.set("configuration", string: #"{"rounds": 3}"#)
  contents.set("policy/weight", shape: [4, 2], values: (0..<8).map { Float($0) / 8 })
  contents.set("training/round", shape: [1], values: [Int64(3)])
  return contents
}

/// Writes `bytes` to `name` in `directory` and reads it as a checkpoint.
private func readModified(
  _ bytes: Data, in directory: TemporaryDirectory, name: String = "modified.h5"
) throws -> CheckpointContents {
  let url = directory.file(name)
  try bytes.write(to: url)
  return try CheckpointFile.read(from: url)
}

@Suite("Checkpoint corruption")
struct CheckpointCorruptionTests {
  @Test func missingFileIsReported() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("absent.h5")
    let error = #expect(throws: CheckpointError.self) { try CheckpointFile.read(from: url) }
    #expect(
      error?.description
        == "Checkpoint file not found at '\(url.path)'. Check the path, or write a "
        + "checkpoint there first.")
  }

  @Test func emptyFileIsReported() throws {
    let directory = try TemporaryDirectory()
    let error = #expect(throws: CheckpointError.self) { try readModified(Data(), in: directory) }
    #expect(error?.description.contains("the file is empty (0 bytes)") == true)
    #expect(error?.description.contains("Restore the file from a backup") == true)
  }

  @Test func directoryIsReported() throws {
    let directory = try TemporaryDirectory()
    let error = #expect(throws: CheckpointError.self) {
      try CheckpointFile.read(from: directory.url)
    }
    #expect(error?.description.contains("the path is a directory") == true)
  }

  @Test func textFileIsReported() throws {
    let directory = try TemporaryDirectory()
    let error = #expect(throws: CheckpointError.self) {
      try readModified(Data("not a checkpoint\n".utf8), in: directory)
    }
    #expect(error?.description.contains("neither the Titrate checkpoint header nor the HDF5") == true)
  }

  @Test func plainHDF5FileIsNotACheckpoint() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("plain.h5")
    do {
      let root = try HDF5File.create(at: url.path).rootGroup()
      try root.createDataset("x", shape: [1], values: [1.0])
    }
    let error = #expect(throws: CheckpointError.self) { try CheckpointFile.read(from: url) }
    #expect(error?.description.contains("root attribute 'format_version' is missing") == true)
  }

  @Test func stringMatrixIsUnsupported() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("matrix.h5")
    do {
      let root = try HDF5File.create(at: url.path).rootGroup()
      try root.setAttribute("format_version", int64: 1)
      try root.setAttribute("program_version", string: "test")
      try root.createStringDataset("names", shape: [2, 1], values: ["a", "b"])
    }
    let error = #expect(throws: CheckpointError.self) { try CheckpointFile.read(from: url) }
    #expect(error?.description.contains("unsupported entry 'names': strings of shape [2, 1]") == true)
  }

  @Test func truncationIsDetectedAtEveryOffset() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("whole.h5")
    try CheckpointFile.write(smallContents(), to: url)
    let bytes = try Data(contentsOf: url)
    let offsets = Array(stride(from: 1, to: bytes.count, by: 41)) + [8, 511, 512, 513, bytes.count - 1]
    for offset in offsets {
      let error = #expect(throws: CheckpointError.self, "cut at \(offset)") {
        try readModified(bytes.prefix(offset), in: directory)
      }
      #expect(error?.description.contains("truncated") == true, "cut at \(offset): \(String(describing: error))")
    }
  }

  @Test func truncatedUnsealedFileIsDetected() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("unsealed.h5")
    try CheckpointFile.write(smallContents(), to: url, failingAfterEntryCount: nil, sealed: false)
    let bytes = try Data(contentsOf: url)
    for offset in stride(from: 1, to: bytes.count, by: 97) {
      #expect(throws: CheckpointError.self, "cut at \(offset)") {
        try readModified(bytes.prefix(offset), in: directory)
      }
    }
  }

  @Test func flippedBytesAreDetectedAnywhere() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("whole.h5")
    try CheckpointFile.write(smallContents(), to: url)
    let bytes = try Data(contentsOf: url)
    // HDF5 1.10.8 itself crashed on a flip in the size field of a string's
    // global heap entry ("GCOL" + 25), which the seal now catches first.
    let heapOffset = try #require(bytes.firstRange(of: Data("GCOL".utf8))).lowerBound + 25
    let offsets = Array(stride(from: 0, to: bytes.count, by: 13)) + [heapOffset]
    for offset in offsets {
      var corrupted = bytes
      corrupted[offset] ^= 0x5A
      #expect(throws: CheckpointError.self, "flip at \(offset)") {
        try readModified(corrupted, in: directory)
      }
    }
  }

  @Test func fletcher32CatchesFlipInUnsealedDataset() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("unsealed.h5")
    var contents = smallContents()
    let values: [Double] = [1.0e-300, 2.5e-300, 3.75e-300, 5.125e-300]
    contents.set("metrics/loss", shape: [4], values: values)
    try CheckpointFile.write(contents, to: url, failingAfterEntryCount: nil, sealed: false)
    let bytes = try Data(contentsOf: url)
    let pattern = values.withUnsafeBytes { Data($0) }
    let start = try #require(bytes.firstRange(of: pattern)).lowerBound
    for offset in [start, start + 9, start + pattern.count - 1] {
      var corrupted = bytes
      corrupted[offset] ^= 0x01
      let error = #expect(throws: CheckpointError.self) {
        try readModified(corrupted, in: directory)
      }
      guard case .corruptedEntry(_, let entryPath, let reason, _) = error else {
        Issue.record("flip at \(offset) gave \(String(describing: error))")
        continue
      }
      #expect(entryPath == "metrics/loss")
      #expect(error?.description.contains("Fletcher32") == true, "\(reason)")
    }
  }
}
