/// Checked access for code that loads a checkpoint: each method returns the
/// entry in the required type and shape, or throws a `CheckpointError` that
/// names the entry and shows stored against expected values.
extension CheckpointContents {
  /// Throws unless `formatVersion` lies in `supported`.
  ///
  /// - Throws: `CheckpointError.unsupportedFormatVersion`.
  public func requireFormatVersion(supported: ClosedRange<Int>) throws(CheckpointError) {
    guard supported.contains(formatVersion) else {
      throw .unsupportedFormatVersion(
        stored: formatVersion, supported: supported, programVersion: programVersion)
    }
  }

  /// Returns the entry at `path`.
  ///
  /// - Throws: `CheckpointError.missingEntry`.
  public func requireValue(_ path: String) throws(CheckpointError) -> CheckpointValue {
    guard let value = self[path] else {
      throw .missingEntry(entryPath: Self.normalize(path))
    }
    return value
  }

  /// Returns the numeric array at `path` with element type `Element` and,
  /// when `shape` is given, exactly that shape.
  ///
  /// - Throws: `CheckpointError.missingEntry`, `.typeMismatch` or
  ///   `.shapeMismatch`.
  public func requireArray<Element: CheckpointElement>(
    _ path: String, of type: Element.Type = Element.self, shape: [Int]? = nil
  ) throws(CheckpointError) -> CheckpointArray<Element> {
    let value = try requireValue(path)
    guard let array = Element.unwrap(value) else {
      throw .typeMismatch(
        entryPath: Self.normalize(path), stored: "\(value.elementType) of shape \(value.shape)",
        expected: "\(Element.checkpointElementType)")
    }
    if let shape, array.shape != shape {
      throw .shapeMismatch(entryPath: Self.normalize(path), stored: array.shape, expected: "\(shape)")
    }
    return array
  }

  /// Returns the values of the float32 array at `path`, which must have
  /// shape `shape`.
  public func requireFloat32(_ path: String, shape: [Int]) throws(CheckpointError) -> [Float] {
    try requireArray(path, of: Float.self, shape: shape).values
  }

  /// Returns the values of the float64 array at `path`, which must have
  /// shape `shape`.
  public func requireFloat64(_ path: String, shape: [Int]) throws(CheckpointError) -> [Double] {
    try requireArray(path, of: Double.self, shape: shape).values
  }

  /// Returns the values of the int64 array at `path`, which must have shape
  /// `shape`.
  public func requireInt64(_ path: String, shape: [Int]) throws(CheckpointError) -> [Int64] {
    try requireArray(path, of: Int64.self, shape: shape).values
  }

  /// Returns the values of the uint64 array at `path`, which must have shape
  /// `shape`.
  public func requireUInt64(_ path: String, shape: [Int]) throws(CheckpointError) -> [UInt64] {
    try requireArray(path, of: UInt64.self, shape: shape).values
  }

  /// Returns the one value of the numeric entry at `path`, which must have
  /// shape `[]` or `[1]`.
  public func requireScalar<Element: CheckpointElement>(
    _ path: String, of type: Element.Type = Element.self
  ) throws(CheckpointError) -> Element {
    let array = try requireArray(path, of: Element.self)
    guard array.shape == [] || array.shape == [1] else {
      throw .shapeMismatch(
        entryPath: Self.normalize(path), stored: array.shape, expected: "[] or [1]")
    }
    return array.values[0]
  }

  /// Returns the single string at `path`.
  ///
  /// - Throws: `CheckpointError.missingEntry` or `.typeMismatch`.
  public func requireString(_ path: String) throws(CheckpointError) -> String {
    let value = try requireValue(path)
    guard case .string(let text) = value else {
      throw .typeMismatch(
        entryPath: Self.normalize(path), stored: "\(value.elementType) of shape \(value.shape)",
        expected: "one string")
    }
    return text
  }

  /// Returns the list of strings at `path`.
  ///
  /// - Throws: `CheckpointError.missingEntry` or `.typeMismatch`.
  public func requireStrings(_ path: String) throws(CheckpointError) -> [String] {
    let value = try requireValue(path)
    guard case .strings(let texts) = value else {
      throw .typeMismatch(
        entryPath: Self.normalize(path), stored: "\(value.elementType) of shape \(value.shape)",
        expected: "a list of strings")
    }
    return texts
  }
}
