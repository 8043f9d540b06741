import Foundation
import Testing

@testable import TitrateCheckpoint

@Suite("Checkpoint atomic write")
struct CheckpointAtomicityTests {
  @Test func failedWriteKeepsOldFile() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("checkpoint.h5")
    var old = CheckpointContents(formatVersion: 1, programVersion: "old")
    old.set("training/round", shape: [1], values: [Int64(7)])
    try CheckpointFile.write(old, to: url)
    let oldBytes = try Data(contentsOf: url)

    for failingAfter in 0..<sampleContents().paths.count {
      let error = #expect(throws: CheckpointError.self) {
        try CheckpointFile.write(
          sampleContents(), to: url, failingAfterEntryCount: failingAfter, sealed: true)
      }
      #expect(error?.description.contains("injected failure") == true)
      #expect(error?.description.hasPrefix("Writing checkpoint '\(url.path)' failed") == true)
      #expect(error?.description.contains("left unchanged") == true)
      #expect(try Data(contentsOf: url) == oldBytes, "after failing at entry \(failingAfter)")
      #expect(try directory.fileNames() == ["checkpoint.h5"], "temporary file left behind")
    }
    #expect(try CheckpointFile.read(from: url) == old)
  }

  @Test func failedFirstWriteLeavesNoFile() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("new.h5")
    #expect(throws: CheckpointError.self) {
      try CheckpointFile.write(sampleContents(), to: url, failingAfterEntryCount: 3, sealed: true)
    }
    #expect(try directory.fileNames() == [])
  }

  @Test func invalidContentsWriteNothing() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("invalid.h5")
    var contents = CheckpointContents(formatVersion: 1, programVersion: "test")
    contents.set("policy", shape: [1], values: [Float(1)])
    contents.set("policy/log_std", shape: [1], values: [Float(0)])
    let error = #expect(throws: CheckpointError.self) {
      try CheckpointFile.write(contents, to: url)
    }
    #expect(
      error?.description
        == "Invalid checkpoint contents: entry 'policy' is also the group of entry "
        + "'policy/log_std'; rename one of them.")
    #expect(try directory.fileNames() == [])
  }

  @Test func missingDirectoryIsReported() throws {
    let directory = try TemporaryDirectory()
    let url = directory.file("absent/checkpoint.h5")
    let error = #expect(throws: CheckpointError.self) {
      try CheckpointFile.write(sampleContents(), to: url)
    }
    #expect(error?.description.contains("directory '\(directory.file("absent").path)' does not exist") == true)
  }
}
