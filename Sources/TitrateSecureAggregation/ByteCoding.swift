/// A message's bytes could not be decoded.
public struct MessageDecodingError: Error, Equatable, CustomStringConvertible {
  /// The message kind being decoded.
  public var message: String
  /// The problem, with the offending value.
  public var detail: String

  public var description: String {
    "cannot decode \(message): \(detail); the sender and receiver must run the same "
      + "message format version"
  }
}

/// Appends little-endian integers and length-prefixed byte strings.
struct ByteWriter {
  var bytes: [UInt8] = []

  mutating func append(_ value: UInt8) { bytes.append(value) }

  mutating func append(_ value: UInt32) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  mutating func append(_ value: UInt64) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  /// Appends a 32-bit length, then the bytes.
  mutating func appendBlob(_ blob: [UInt8]) {
    append(UInt32(blob.count))
    bytes.append(contentsOf: blob)
  }

  /// Appends `value`'s low `width` bytes, little-endian.
  mutating func appendPacked(_ value: UInt64, width: Int) {
    for byte in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * byte))) }
  }
}

/// Reads what `ByteWriter` wrote, checking every length.
struct ByteReader {
  private let bytes: [UInt8]
  private var offset = 0
  private let message: String

  init(_ bytes: [UInt8], message: String) {
    self.bytes = bytes
    self.message = message
  }

  private func failure(_ detail: String) -> MessageDecodingError {
    MessageDecodingError(message: message, detail: detail)
  }

  private mutating func take(_ count: Int) throws(MessageDecodingError) -> ArraySlice<UInt8> {
    guard count >= 0, bytes.count - offset >= count else {
      throw failure(
        "needs \(count) bytes at offset \(offset), only \(bytes.count - offset) remain "
          + "(truncated message)")
    }
    defer { offset += count }
    return bytes[offset..<offset + count]
  }

  mutating func readUInt8() throws(MessageDecodingError) -> UInt8 {
    try take(1).first!
  }

  mutating func readUInt32() throws(MessageDecodingError) -> UInt32 {
    UInt32(truncatingIfNeeded: try readPacked(width: 4))
  }

  mutating func readUInt64() throws(MessageDecodingError) -> UInt64 {
    try readPacked(width: 8)
  }

  mutating func readPacked(width: Int) throws(MessageDecodingError) -> UInt64 {
    var value: UInt64 = 0
    for (index, byte) in try take(width).enumerated() { value |= UInt64(byte) << (8 * index) }
    return value
  }

  mutating func readBlob(maximumCount: Int = 1 << 30) throws(MessageDecodingError) -> [UInt8] {
    let count = Int(try readUInt32())
    guard count <= maximumCount else {
      throw failure("length \(count) is above the limit of \(maximumCount) bytes")
    }
    return Array(try take(count))
  }

  /// Reads a 32-bit count and checks it against `maximum`, so a corrupt
  /// count cannot make the decoder allocate without bound.
  mutating func readCount(maximum: Int, of item: String) throws(MessageDecodingError) -> Int {
    let count = Int(try readUInt32())
    guard count <= maximum else {
      throw failure("\(count) \(item) is above the limit of \(maximum)")
    }
    return count
  }

  mutating func expectTag(_ tag: UInt8) throws(MessageDecodingError) {
    let found = try readUInt8()
    guard found == tag else { throw failure("message tag \(found), expected \(tag)") }
  }

  func expectEnd() throws(MessageDecodingError) {
    guard offset == bytes.count else {
      throw failure("\(bytes.count - offset) bytes left after the message")
    }
  }
}
