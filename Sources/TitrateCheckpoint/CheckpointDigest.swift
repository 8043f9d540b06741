/// SHA-256 over a canonical byte encoding of a checkpoint's contents,
/// stored in the root attribute `content_sha256`.
///
/// Fletcher-32 protects numeric chunks only. This digest also covers strings,
/// shapes and the version attributes, so any change after writing is
/// detected. The encoding is independent of HDF5's layout, so other tools
/// can recompute it (the format document gives the rules, and
/// `scripts/checkpoint_interop.py` implements them):
///
/// 1. The ASCII tag `titrate-checkpoint-sha256-v1`.
/// 2. `format_version` as 8 bytes, then `program_version` and `created_utc`
///    as strings.
/// 3. For each entry in increasing byte order of its UTF-8 path: the path as
///    a string, the element type name (`float32`, ..., `string`) as a
///    string, the rank and each dimension as 8 bytes, then the values: each
///    number as its little-endian bit pattern (4 bytes for float32, else 8),
///    each string as a string.
///
/// Integers are unsigned 64-bit little-endian. A string is its UTF-8 byte
/// count as 8 bytes followed by the bytes.
enum CheckpointDigest {
  static let attributeName = "content_sha256"
  static let tag = "titrate-checkpoint-sha256-v1"

  /// Hex digest of `contents`.
  static func hexDigest(of contents: CheckpointContents) -> String {
    var hasher = SHA256()
    hasher.update(tag)
    appendInteger(UInt64(bitPattern: Int64(contents.formatVersion)), to: &hasher)
    appendString(contents.programVersion, to: &hasher)
    appendString(contents.createdUTC, to: &hasher)
    for path in contents.paths {
      guard let value = contents[path] else { continue }
      appendString(path, to: &hasher)
      appendString(value.elementType.rawValue, to: &hasher)
      appendInteger(UInt64(value.shape.count), to: &hasher)
      for dimension in value.shape {
        appendInteger(UInt64(dimension), to: &hasher)
      }
      switch value {
      case .float32(let array): appendNumbers(array.values, to: &hasher)
      case .float64(let array): appendNumbers(array.values, to: &hasher)
      case .int64(let array): appendNumbers(array.values, to: &hasher)
      case .uint64(let array): appendNumbers(array.values, to: &hasher)
      case .string(let text): appendString(text, to: &hasher)
      case .strings(let texts): texts.forEach { appendString($0, to: &hasher) }
      }
    }
    return SHA256.hexString(hasher.finalize())
  }

  private static func appendInteger(_ value: UInt64, to hasher: inout SHA256) {
    withUnsafeBytes(of: value.littleEndian) { hasher.update($0) }
  }

  private static func appendString(_ text: String, to hasher: inout SHA256) {
    let bytes = Array(text.utf8)
    appendInteger(UInt64(bytes.count), to: &hasher)
    hasher.update(bytes)
  }

  private static func appendNumbers<Element: CheckpointElement>(
    _ values: [Element], to hasher: inout SHA256
  ) {
    let byteCount = Element.storedByteCount
    var bytes = [UInt8](repeating: 0, count: values.count * byteCount)
    for (index, value) in values.enumerated() {
      let bits = value.storedBits
      for byte in 0..<byteCount {
        bytes[index * byteCount + byte] = UInt8(truncatingIfNeeded: bits >> UInt64(8 * byte))
      }
    }
    hasher.update(bytes)
  }
}
