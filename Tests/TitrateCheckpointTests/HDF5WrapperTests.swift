import Foundation
import Testing
import TitrateHDF5

@Suite("HDF5 wrapper")
struct HDF5WrapperTests {
  @Test func numericDatasetsRoundTrip() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("numbers.h5").path
    do {
      let file = try HDF5File.create(at: path)
      let root = try file.rootGroup()
      try root.createDataset("a/b/floats", shape: [2, 3], values: [Float](arrayLiteral: 1, 2, 3, 4, 5, 6))
      try root.createDataset("doubles", shape: [], values: [Double.pi])
      try root.createDataset("signed", shape: [4], values: [Int64.min, -1, 0, Int64.max])
      try root.createDataset("unsigned", shape: [1, 1, 2], values: [UInt64.max, 7])
      try root.createDataset("empty", shape: [0, 5], values: [Float]())
    }

    let file = try HDF5File.open(at: path)
    let root = try file.rootGroup()
    let floats = try root.openDataset("a/b/floats")
    #expect(try floats.shape() == [2, 3])
    #expect(try floats.elementType() == .float32)
    #expect(try floats.read(as: Float.self) == [1, 2, 3, 4, 5, 6])
    #expect(try floats.hasFletcher32Checksum())
    #expect(try root.openDataset("doubles").read(as: Double.self) == [Double.pi])
    #expect(try root.openDataset("doubles").shape() == [])
    #expect(try root.openDataset("signed").read(as: Int64.self) == [Int64.min, -1, 0, Int64.max])
    #expect(try root.openDataset("unsigned").read(as: UInt64.self) == [UInt64.max, 7])
    #expect(try root.openDataset("empty").shape() == [0, 5])
    #expect(try root.openDataset("empty").read(as: Float.self) == [])
  }

  @Test func readingWithWrongTypeThrows() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("typed.h5").path
    do {
      let root = try HDF5File.create(at: path).rootGroup()
      try root.createDataset("x", shape: [2], values: [1.0, 2.0])
    }
    let dataset = try HDF5File.open(at: path).rootGroup().openDataset("x")
    let error = #expect(throws: HDF5Error.self) { try dataset.read(as: Float.self) }
    #expect(error?.description.contains("stored element type is float64, requested float32") == true)
  }

  @Test func stringsAndAttributesRoundTrip() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("strings.h5").path
    let texts = ["", "plain", "Dosis 5 µg/kg · Tag 2 ✓", "emoji 💊"]
    do {
      let root = try HDF5File.create(at: path).rootGroup()
      try root.createStringDataset("text/one", shape: [], values: ["{\"key\": \"välue\"}"])
      try root.createStringDataset("text/list", shape: [texts.count], values: texts)
      try root.createStringDataset("text/none", shape: [0], values: [])
      try root.setAttribute("count", int64: -42)
      try root.setAttribute("name", string: "Titrate ✓")
      try root.setAttribute("name", string: "replaced")
    }
    let root = try HDF5File.open(at: path).rootGroup()
    #expect(try root.openDataset("text/one").readStrings() == ["{\"key\": \"välue\"}"])
    #expect(try root.openDataset("text/list").readStrings() == texts)
    #expect(try root.openDataset("text/none").readStrings() == [])
    #expect(try root.int64Attribute("count") == -42)
    #expect(try root.stringAttribute("name") == "replaced")
    #expect(try root.attributeNames() == ["count", "name"])
    #expect(try root.hasAttribute("count"))
    #expect(try !root.hasAttribute("missing"))
  }

  @Test func membersListGroupsAndDatasets() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("members.h5").path
    do {
      let root = try HDF5File.create(at: path).rootGroup()
      try root.createGroup("empty/inner")
      try root.createDataset("values", shape: [1], values: [Int64(1)])
    }
    let root = try HDF5File.open(at: path).rootGroup()
    #expect(
      try root.members() == [
        HDF5Member(name: "empty", kind: .group), HDF5Member(name: "values", kind: .dataset),
      ])
    #expect(try root.openGroup("empty").members() == [HDF5Member(name: "inner", kind: .group)])
    #expect(try root.contains("values"))
    #expect(try !root.contains("absent"))
  }

  @Test func missingObjectErrorNamesPathAndCause() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("missing.h5").path
    _ = try HDF5File.create(at: path)
    let root = try HDF5File.open(at: path).rootGroup()
    let error = #expect(throws: HDF5Error.self) { try root.openDataset("policy/weight") }
    #expect(error?.operation == "open dataset")
    #expect(error?.objectPath.hasSuffix(":/policy/weight") == true)
    #expect(error?.stack.isEmpty == false)
    #expect(error?.cause == "Object not found")
    #expect(error?.description.contains("component not found") == true)
  }

  @Test func createRefusesExistingFileUnlessOverwriting() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("twice.h5").path
    _ = try HDF5File.create(at: path)
    let error = #expect(throws: HDF5Error.self) { try HDF5File.create(at: path) }
    #expect(error?.operation == "create file")
    #expect(error?.objectPath == path)
    _ = try HDF5File.create(at: path, overwrite: true)
  }

  @Test func closeRejectsOpenChildren() throws {
    let directory = try TemporaryDirectory()
    let file = try HDF5File.create(at: directory.file("open.h5").path)
    let root = try file.rootGroup()
    let error = #expect(throws: HDF5Error.self) { try file.close() }
    #expect(error?.note.contains("still open") == true)
    withExtendedLifetime(root) {}
  }

  @Test func stringWithNULIsRejected() throws {
    let directory = try TemporaryDirectory()
    let root = try HDF5File.create(at: directory.file("nul.h5").path).rootGroup()
    let error = #expect(throws: HDF5Error.self) {
      try root.createStringDataset("bad", shape: [], values: ["a\u{0}b"])
    }
    #expect(error?.note.contains("NUL") == true)
  }
}
