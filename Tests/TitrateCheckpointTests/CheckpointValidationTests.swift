import Testing
import TitrateCheckpoint

@Suite("Checkpoint validation")
struct CheckpointValidationTests {
  private func contents() -> CheckpointContents {
    var contents = CheckpointContents(formatVersion: 2, programVersion: "0.4.1")
    contents.set("policy/layer_0/weight", shape: [64, 8], values: [Float](repeating: 0, count: 512))
    contents.set("training/round", shape: [], values: [Int64(9)])
    contents.set("rng/state", shape: [1], values: [UInt64(5)])
    contents.set("configuration", string: "{}")
    contents["sites/names"] = .strings(["a", "b"])
    return contents
  }

  @Test func matchingRequestsReturnValues() throws {
    let contents = contents()
    #expect(try contents.requireFloat32("policy/layer_0/weight", shape: [64, 8]).count == 512)
    #expect(try contents.requireFloat32("/policy/layer_0/weight", shape: [64, 8]).count == 512)
    #expect(try contents.requireScalar("training/round", of: Int64.self) == 9)
    #expect(try contents.requireScalar("rng/state", of: UInt64.self) == 5)
    #expect(try contents.requireString("configuration") == "{}")
    #expect(try contents.requireStrings("sites/names") == ["a", "b"])
    try contents.requireFormatVersion(supported: 1...2)
  }

  @Test func shapeMismatchShowsBothShapes() {
    let error = #expect(throws: CheckpointError.self) {
      try contents().requireFloat32("policy/layer_0/weight", shape: [64, 12])
    }
    #expect(
      error?.description.hasPrefix(
        "Checkpoint entry stored shape [64, 8] at policy/layer_0/weight, expected [64, 12].")
        == true)
  }

  @Test func typeMismatchNamesTypes() {
    let error = #expect(throws: CheckpointError.self) {
      try contents().requireFloat64("policy/layer_0/weight", shape: [64, 8])
    }
    #expect(
      error?.description.hasPrefix(
        "Checkpoint entry 'policy/layer_0/weight' stores float32 of shape [64, 8], "
          + "expected float64.") == true)
    let stringError = #expect(throws: CheckpointError.self) {
      try contents().requireString("sites/names")
    }
    #expect(stringError?.description.contains("stores string of shape [2], expected one string") == true)
  }

  @Test func missingEntryIsNamed() {
    let error = #expect(throws: CheckpointError.self) {
      try contents().requireUInt64("/rng/other", shape: [1])
    }
    #expect(error == .missingEntry(entryPath: "rng/other"))
    #expect(error?.description.hasPrefix("Checkpoint entry 'rng/other' is missing.") == true)
  }

  @Test func scalarRejectsLongerArray() {
    var contents = contents()
    contents.set("training/round", shape: [2], values: [Int64(1), 2])
    let error = #expect(throws: CheckpointError.self) {
      try contents.requireScalar("training/round", of: Int64.self)
    }
    #expect(error == .shapeMismatch(entryPath: "training/round", stored: [2], expected: "[] or [1]"))
  }

  @Test func formatVersionOutsideRangeIsRejected() {
    let error = #expect(throws: CheckpointError.self) {
      try contents().requireFormatVersion(supported: 3...4)
    }
    #expect(
      error?.description
        == "Checkpoint format version 2 (written by program version 0.4.1) is not supported; "
        + "this program reads format version 3 to 4. Use a program version that reads "
        + "format 2, or write a new checkpoint.")
    let single = #expect(throws: CheckpointError.self) {
      try contents().requireFormatVersion(supported: 1...1)
    }
    #expect(single?.description.contains("reads format version 1.") == true)
  }

  @Test(arguments: [
    ("a//b", "has an empty component"),
    ("a/", "has an empty component"),
    ("a/./b", "contains '.'"),
    ("../b", "contains '..'"),
  ])
  func invalidPathsAreRejected(path: String, message: String) {
    var contents = CheckpointContents(formatVersion: 1, programVersion: "test")
    contents.set(path, shape: [1], values: [Int64(1)])
    let error = #expect(throws: CheckpointError.self) { try contents.validate() }
    #expect(error?.description.contains(message) == true, "path \(path)")
  }

  @Test func stringWithNULIsRejected() {
    var contents = CheckpointContents(formatVersion: 1, programVersion: "test")
    contents.set("configuration", string: "{\u{0}}")
    let error = #expect(throws: CheckpointError.self) { try contents.validate() }
    #expect(error?.description.contains("'configuration' contains a NUL character") == true)
  }
}
