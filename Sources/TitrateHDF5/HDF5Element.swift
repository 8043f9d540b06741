import CHDF5

/// Element type of a dataset or attribute as stored in the file.
public enum HDF5ElementType: Sendable, Equatable, CustomStringConvertible {
  /// IEEE 754 binary32.
  case float32
  /// IEEE 754 binary64.
  case float64
  /// Two's complement 64-bit signed integer.
  case int64
  /// 64-bit unsigned integer.
  case uint64
  /// String, variable-length or fixed-length, in ASCII or UTF-8.
  case string
  /// Any other type, described in words ("integer, 4 bytes, signed").
  case other(String)

  /// Lower-case name as used in messages and by NumPy (`float32`, `int64`).
  public var description: String {
    switch self {
    case .float32: "float32"
    case .float64: "float64"
    case .int64: "int64"
    case .uint64: "uint64"
    case .string: "string"
    case .other(let text): text
    }
  }
}

/// Numeric Swift types that map one-to-one onto an HDF5 element type.
///
/// Conforming types are `Float`, `Double`, `Int64` and `UInt64`. Files store
/// them little-endian, the layout NumPy and h5py use on common hardware.
public protocol HDF5NumericElement: Sendable, Equatable {
  /// Stored element type that this Swift type reads and writes without
  /// conversion.
  static var elementType: HDF5ElementType { get }
  /// HDF5 predefined type for values in memory (`H5T_NATIVE_*`).
  static var memoryTypeID: hid_t { get }
  /// HDF5 predefined type for values in the file (`H5T_IEEE_F32LE`, ...).
  static var fileTypeID: hid_t { get }
}

extension Float: HDF5NumericElement {
  /// `float32`.
  public static var elementType: HDF5ElementType { .float32 }
  /// `H5T_NATIVE_FLOAT`.
  public static var memoryTypeID: hid_t { titrate_H5T_NATIVE_FLOAT() }
  /// `H5T_IEEE_F32LE`.
  public static var fileTypeID: hid_t { titrate_H5T_IEEE_F32LE() }
}

extension Double: HDF5NumericElement {
  /// `float64`.
  public static var elementType: HDF5ElementType { .float64 }
  /// `H5T_NATIVE_DOUBLE`.
  public static var memoryTypeID: hid_t { titrate_H5T_NATIVE_DOUBLE() }
  /// `H5T_IEEE_F64LE`.
  public static var fileTypeID: hid_t { titrate_H5T_IEEE_F64LE() }
}

extension Int64: HDF5NumericElement {
  /// `int64`.
  public static var elementType: HDF5ElementType { .int64 }
  /// `H5T_NATIVE_INT64`.
  public static var memoryTypeID: hid_t { titrate_H5T_NATIVE_INT64() }
  /// `H5T_STD_I64LE`.
  public static var fileTypeID: hid_t { titrate_H5T_STD_I64LE() }
}

extension UInt64: HDF5NumericElement {
  /// `uint64`.
  public static var elementType: HDF5ElementType { .uint64 }
  /// `H5T_NATIVE_UINT64`.
  public static var memoryTypeID: hid_t { titrate_H5T_NATIVE_UINT64() }
  /// `H5T_STD_U64LE`.
  public static var fileTypeID: hid_t { titrate_H5T_STD_U64LE() }
}

/// Classifies a stored datatype.
func elementType(of type: HDF5Handle, objectPath: String) throws(HDF5Error) -> HDF5ElementType {
  let typeClass = H5Tget_class(type.id)
  let sizeBytes = H5Tget_size(type.id)
  switch typeClass {
  case H5T_FLOAT:
    if sizeBytes == 4 { return .float32 }
    if sizeBytes == 8 { return .float64 }
    return .other("float, \(sizeBytes) bytes")
  case H5T_INTEGER:
    let sign = H5Tget_sign(type.id)
    let signedness = sign == H5T_SGN_NONE ? "unsigned" : "signed"
    if sizeBytes == 8 {
      return sign == H5T_SGN_NONE ? .uint64 : .int64
    }
    return .other("integer, \(sizeBytes) bytes, \(signedness)")
  case H5T_STRING:
    return .string
  case H5T_NO_CLASS:
    throw HDF5Error(
      operation: "get datatype class", objectPath: objectPath, stack: HDF5Error.takeStack())
  default:
    return .other("HDF5 type class \(typeClass.rawValue)")
  }
}
