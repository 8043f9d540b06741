/// Element type of a checkpoint entry, named as in NumPy.
public enum CheckpointElementType: String, Sendable, Equatable, CustomStringConvertible {
  /// IEEE 754 binary32.
  case float32
  /// IEEE 754 binary64.
  case float64
  /// 64-bit signed integer.
  case int64
  /// 64-bit unsigned integer.
  case uint64
  /// UTF-8 string.
  case string

  /// The raw value, for messages.
  public var description: String { rawValue }
}

/// Numeric types a checkpoint stores: `Float`, `Double`, `Int64`, `UInt64`.
public protocol CheckpointElement: Sendable {
  /// Stored element type.
  static var checkpointElementType: CheckpointElementType { get }
  /// Size of one stored element in bytes.
  static var storedByteCount: Int { get }
  /// Bit pattern as stored, zero-extended to 64 bits.
  var storedBits: UInt64 { get }
  /// Wraps an array of this type as a `CheckpointValue`.
  static func wrap(_ array: CheckpointArray<Self>) -> CheckpointValue
  /// Unwraps an array of this type, or returns `nil` for another type.
  static func unwrap(_ value: CheckpointValue) -> CheckpointArray<Self>?
}

extension Float: CheckpointElement {
  /// `.float32`.
  public static var checkpointElementType: CheckpointElementType { .float32 }
  /// 4 bytes.
  public static var storedByteCount: Int { 4 }
  /// IEEE 754 bit pattern.
  public var storedBits: UInt64 { UInt64(bitPattern) }
  /// `.float32(array)`.
  public static func wrap(_ array: CheckpointArray<Float>) -> CheckpointValue { .float32(array) }
  /// The array of a `.float32` value.
  public static func unwrap(_ value: CheckpointValue) -> CheckpointArray<Float>? {
    if case .float32(let array) = value { return array }
    return nil
  }
}

extension Double: CheckpointElement {
  /// `.float64`.
  public static var checkpointElementType: CheckpointElementType { .float64 }
  /// 8 bytes.
  public static var storedByteCount: Int { 8 }
  /// IEEE 754 bit pattern.
  public var storedBits: UInt64 { bitPattern }
  /// `.float64(array)`.
  public static func wrap(_ array: CheckpointArray<Double>) -> CheckpointValue { .float64(array) }
  /// The array of a `.float64` value.
  public static func unwrap(_ value: CheckpointValue) -> CheckpointArray<Double>? {
    if case .float64(let array) = value { return array }
    return nil
  }
}

extension Int64: CheckpointElement {
  /// `.int64`.
  public static var checkpointElementType: CheckpointElementType { .int64 }
  /// 8 bytes.
  public static var storedByteCount: Int { 8 }
  /// Two's complement bit pattern.
  public var storedBits: UInt64 { UInt64(bitPattern: self) }
  /// `.int64(array)`.
  public static func wrap(_ array: CheckpointArray<Int64>) -> CheckpointValue { .int64(array) }
  /// The array of an `.int64` value.
  public static func unwrap(_ value: CheckpointValue) -> CheckpointArray<Int64>? {
    if case .int64(let array) = value { return array }
    return nil
  }
}

extension UInt64: CheckpointElement {
  /// `.uint64`.
  public static var checkpointElementType: CheckpointElementType { .uint64 }
  /// 8 bytes.
  public static var storedByteCount: Int { 8 }
  /// The value itself.
  public var storedBits: UInt64 { self }
  /// `.uint64(array)`.
  public static func wrap(_ array: CheckpointArray<UInt64>) -> CheckpointValue { .uint64(array) }
  /// The array of a `.uint64` value.
  public static func unwrap(_ value: CheckpointValue) -> CheckpointArray<UInt64>? {
    if case .uint64(let array) = value { return array }
    return nil
  }
}

/// A numeric array of any rank: a shape and its values in row-major order.
///
/// Two arrays are equal when their shapes and the bit patterns of their
/// values match, so a NaN equals the same NaN and `0.0` differs from `-0.0`.
public struct CheckpointArray<Element: CheckpointElement>: Sendable, Equatable {
  /// Dimensions, outermost first; `[]` for a scalar. A weight matrix of a
  /// layer with `in` inputs and `out` outputs has shape `[out, in]`.
  public let shape: [Int]
  /// Values in row-major order; `values.count` is the product of `shape`.
  public let values: [Element]

  /// Creates an array; `values.count` must equal the product of `shape` and
  /// no dimension may be negative.
  public init(shape: [Int], values: [Element]) {
    precondition(
      shape.allSatisfy { $0 >= 0 }, "CheckpointArray shape \(shape) has a negative dimension")
    precondition(
      shape.reduce(1, *) == values.count,
      "CheckpointArray shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
    self.shape = shape
    self.values = values
  }

  /// Creates a rank-1 array of shape `[values.count]`.
  public init(vector values: [Element]) {
    self.init(shape: [values.count], values: values)
  }

  /// Creates a rank-0 array holding one value.
  public init(scalar value: Element) {
    self.init(shape: [], values: [value])
  }

  /// Compares shapes and bit patterns.
  public static func == (left: Self, right: Self) -> Bool {
    left.shape == right.shape
      && left.values.elementsEqual(right.values) { $0.storedBits == $1.storedBits }
  }
}

/// The value of one checkpoint entry.
public enum CheckpointValue: Sendable, Equatable {
  /// Array of `Float`.
  case float32(CheckpointArray<Float>)
  /// Array of `Double`.
  case float64(CheckpointArray<Double>)
  /// Array of `Int64`.
  case int64(CheckpointArray<Int64>)
  /// Array of `UInt64`.
  case uint64(CheckpointArray<UInt64>)
  /// One UTF-8 string, stored as a scalar dataset.
  case string(String)
  /// List of UTF-8 strings, stored as a rank-1 dataset.
  case strings([String])

  /// Stored element type.
  public var elementType: CheckpointElementType {
    switch self {
    case .float32: .float32
    case .float64: .float64
    case .int64: .int64
    case .uint64: .uint64
    case .string, .strings: .string
    }
  }

  /// Stored shape: `[]` for `.string`, `[n]` for `.strings`.
  public var shape: [Int] {
    switch self {
    case .float32(let array): array.shape
    case .float64(let array): array.shape
    case .int64(let array): array.shape
    case .uint64(let array): array.shape
    case .string: []
    case .strings(let values): [values.count]
    }
  }
}
