import Testing

@testable import TitrateFederation

/// Compressed result payloads that the aggregator must reject before it
/// expands them: bad indices, wrong lengths, non-finite scales.
struct CompressedUpdateValidationTests {
  /// Encodes `delta` in a result payload and returns the reader's error.
  static func decodingError(
    _ delta: CompressedDelta, parameterCount: Int?
  ) throws -> UpdateCompressionError? {
    var writer = TransportWriter()
    try writer.append(UpdateCompressionTests.result(delta: []), encodedDelta: delta)
    var reader = TransportReader(writer.bytes, context: "test")
    do {
      _ = try reader.readEncodedResult(parameterCount: parameterCount)
      return nil
    } catch let error as UpdateCompressionError {
      return error
    }
  }

  static let zeros = [Int8](repeating: 0, count: 16)

  @Test(arguments: [
    (CompressedDelta.int8(blockSize: 8, scales: [1, .nan], values: zeros), "scale of block 1"),
    (.int8(blockSize: 8, scales: [.infinity, 1], values: zeros), "scale of block 0"),
    (.int8(blockSize: 8, scales: [1, -0.5], values: zeros), "scale of block 1"),
    (.int8(blockSize: 8, scales: [1], values: zeros), "1 scales for 16 values"),
    (.int8(blockSize: 4, scales: [1, 1, 1, 1], values: zeros), "block size 4"),
    (.int8(blockSize: 8, scales: [1, 1], values: Array(zeros.dropLast()) + [-128]), "value 15 is -128"),
    (.int8(blockSize: 8, scales: [1], values: Array(zeros.prefix(8))), "8 values for a model"),
    (.float16(Array(repeating: 0, count: 15)), "15 values for a model of 16"),
    (.float64(Array(repeating: 0, count: 17)), "17 values for a model of 16"),
    (.topK(fraction: 0.25, count: 16, indices: [0, 3, 16, 17], values: [1, 1, 1, 1]), "index 16"),
    (.topK(fraction: 0.25, count: 16, indices: [0, 5, 5, 9], values: [1, 1, 1, 1]), "index 5"),
    (.topK(fraction: 0.25, count: 16, indices: [0, 9, 5, 12], values: [1, 1, 1, 1]), "index 5"),
    (.topK(fraction: 0.25, count: 16, indices: [0, 5, 9], values: [1, 1, 1]), "expected 4"),
    (.topK(fraction: 0.25, count: 16, indices: [0, 5, 9, 10, 11], values: [1, 1, 1]), "index words"),
    (.topK(fraction: 0, count: 16, indices: [], values: []), "kept fraction 0.0"),
    (.topK(fraction: .nan, count: 16, indices: [], values: []), "kept fraction nan"),
    (.topK(fraction: 0.25, count: 1 << 40, indices: [0], values: [1]), "values for a model"),
  ])
  func rejectsMalformedDelta(_ delta: CompressedDelta, _ expected: String) throws {
    let error = try #require(try Self.decodingError(delta, parameterCount: 16))
    #expect(error.description.contains(expected), "\(error)")
  }

  /// Without the model's size the reader still refuses a huge dense
  /// length, so a forged top-k header cannot make it allocate terabytes.
  @Test func rejectsHugeTopKLengthWithoutModelSize() throws {
    let delta = CompressedDelta.topK(fraction: 1e-12, count: 1 << 40, indices: [0], values: [1])
    let error = try #require(try Self.decodingError(delta, parameterCount: nil))
    #expect(error.description.contains("dense length"), "\(error)")
  }

  @Test func acceptsWellFormedDeltas() throws {
    let deltas: [CompressedDelta] = [
      .int8(blockSize: 8, scales: [1, 0], values: Self.zeros),
      .float16(Array(repeating: 0, count: 16)),
      .topK(fraction: 0.25, count: 16, indices: [0, 5, 9, 15], values: [1, .nan, 1, 1]),
    ]
    for delta in deltas {
      #expect(try Self.decodingError(delta, parameterCount: 16) == nil, "\(delta)")
    }
  }

  @Test func rejectsWordCountMismatch() throws {
    var writer = TransportWriter()
    writer.append(UpdateCompression.int8(blockSize: 8).wireCode)
    writer.append("icu_arc")
    writer.append(3)
    writer.append(8)  // block size
    writer.append(16)  // values
    writer.append([Float(1), 1])
    writer.append([UInt64(0)])  // two words are needed for 16 values
    var reader = TransportReader(writer.bytes, context: "test")
    #expect(throws: UpdateCompressionError.self) {
      try reader.readEncodedResult(parameterCount: 16)
    }
  }

  @Test func rejectsUnknownEncoding() {
    var writer = TransportWriter()
    writer.append(7)
    writer.append("icu_arc")
    writer.append(3)
    var reader = TransportReader(writer.bytes, context: "test")
    #expect(throws: UpdateCompressionError.unknownEncoding(7)) {
      try reader.readEncodedResult()
    }
  }
}
