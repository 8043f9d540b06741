import Foundation

/// Appends values to a byte buffer in a fixed binary layout: integers and
/// floating-point numbers as raw little-endian bits, arrays and strings
/// with an Int64 length first. The layout carries Float and Double values
/// bit for bit, NaN and signed zero included, so results that cross
/// processes match the in-process ones exactly.
struct TransportWriter {
  private(set) var bytes: [UInt8] = []

  mutating func append(_ value: Int) { appendBits(UInt64(bitPattern: Int64(value))) }

  mutating func append(_ value: UInt64) { appendBits(value) }

  mutating func append(_ value: Double) { appendBits(value.bitPattern) }

  mutating func append(_ value: Float) {
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
  }

  mutating func append(_ value: Bool) { bytes.append(value ? 1 : 0) }

  mutating func append(_ values: [Double]) {
    append(values.count)
    for value in values { appendBits(value.bitPattern) }
  }

  mutating func append(_ values: [Float]) {
    append(values.count)
    for value in values { append(value) }
  }

  mutating func append(_ values: [UInt64]) {
    append(values.count)
    for value in values { appendBits(value) }
  }

  mutating func append(_ values: [Int]) {
    append(values.count)
    for value in values { append(value) }
  }

  /// Appends a length-prefixed byte string (a protocol message).
  mutating func appendBytes(_ values: [UInt8]) {
    append(values.count)
    bytes.append(contentsOf: values)
  }

  mutating func append(_ text: String) {
    let utf8 = Array(text.utf8)
    append(utf8.count)
    bytes.append(contentsOf: utf8)
  }

  /// Appends a length-prefixed JSON encoding, for small metadata records.
  mutating func appendJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    // Sorted keys make the bytes the same in every process, whose
    // dictionary orders differ.
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    append(String(decoding: try encoder.encode(value), as: UTF8.self))
  }

  private mutating func appendBits(_ bits: UInt64) {
    withUnsafeBytes(of: bits.littleEndian) { bytes.append(contentsOf: $0) }
  }
}

/// Reads what `TransportWriter` wrote, in the same order.
struct TransportReader {
  private let bytes: [UInt8]
  private var offset = 0
  /// Description of the buffer for error messages, such as the sender.
  private let context: String

  init(_ bytes: [UInt8], context: String) {
    self.bytes = bytes
    self.context = context
  }

  var isAtEnd: Bool { offset == bytes.count }

  mutating func readInt() throws -> Int {
    let value = Int64(bitPattern: try readBits())
    guard let result = Int(exactly: value) else { throw truncated("an integer") }
    return result
  }

  mutating func readUInt64() throws -> UInt64 { try readBits() }

  mutating func readDouble() throws -> Double { Double(bitPattern: try readBits()) }

  mutating func readFloat() throws -> Float {
    guard bytes.count - offset >= 4 else { throw truncated("4 bytes") }
    var bits: UInt32 = 0
    for index in 0..<4 { bits |= UInt32(bytes[offset + index]) << (8 * index) }
    offset += 4
    return Float(bitPattern: bits)
  }

  mutating func readBool() throws -> Bool {
    guard offset < bytes.count else { throw truncated("a flag") }
    defer { offset += 1 }
    return bytes[offset] != 0
  }

  mutating func readDoubles() throws -> [Double] {
    let count = try readCount(elementSize: 8)
    return try (0..<count).map { _ in try readDouble() }
  }

  mutating func readFloats() throws -> [Float] {
    let count = try readCount(elementSize: 4)
    return try (0..<count).map { _ in try readFloat() }
  }

  mutating func readUInt64s() throws -> [UInt64] {
    let count = try readCount(elementSize: 8)
    return try (0..<count).map { _ in try readBits() }
  }

  mutating func readInts() throws -> [Int] {
    let count = try readCount(elementSize: 8)
    return try (0..<count).map { _ in try readInt() }
  }

  mutating func readBytes() throws -> [UInt8] {
    let count = try readCount(elementSize: 1)
    defer { offset += count }
    return Array(bytes[offset..<offset + count])
  }

  mutating func readString() throws -> String {
    let count = try readCount(elementSize: 1)
    defer { offset += count }
    return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
  }

  mutating func readJSON<Value: Decodable>(_ type: Value.Type) throws -> Value {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    do {
      return try decoder.decode(type, from: Data(try readString().utf8))
    } catch {
      throw FederationTransportError.malformedMessage("\(context): invalid \(type) JSON: \(error)")
    }
  }

  private mutating func readCount(elementSize: Int) throws -> Int {
    let count = try readInt()
    guard count >= 0, count <= (bytes.count - offset) / elementSize else {
      throw truncated("\(count) elements")
    }
    return count
  }

  private mutating func readBits() throws -> UInt64 {
    guard bytes.count - offset >= 8 else { throw truncated("8 bytes") }
    var bits: UInt64 = 0
    for index in 0..<8 { bits |= UInt64(bytes[offset + index]) << (8 * index) }
    offset += 8
    return bits
  }

  private func truncated(_ expected: String) -> FederationTransportError {
    .malformedMessage(
      "\(context): expected \(expected) at byte \(offset) of \(bytes.count); the ranks run "
        + "different titrate builds or the message was cut")
  }
}
