import CHDF5

/// Base of open groups and datasets: an owned identifier, its object path and
/// its attributes.
public class HDF5Object {
  let handle: HDF5Handle
  /// File system path of the file that contains this object.
  public let filePath: String
  /// Absolute path of this object inside the file, for example
  /// `/policy/layer_0/weight`.
  public let objectPath: String

  init(handle: HDF5Handle, filePath: String, objectPath: String) {
    self.handle = handle
    self.filePath = filePath
    self.objectPath = objectPath
  }

  /// Path used in error messages: `file.h5:/group/dataset`.
  var errorPath: String { "\(filePath):\(objectPath)" }

  // MARK: Attributes

  /// Names of this object's attributes in increasing name order.
  public func attributeNames() throws(HDF5Error) -> [String] {
    final class Names {
      var values: [String] = []
    }
    let names = Names()
    let collect: H5A_operator2_t = { _, name, _, context in
      guard let name, let context else { return -1 }
      Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().values.append(String(cString: name))
      return 0
    }
    var index: hsize_t = 0
    _ = try withExtendedLifetime(names) { () throws(HDF5Error) in
      try hdf5Call("list attributes", errorPath) {
        H5Aiterate2(
          handle.id, H5_INDEX_NAME, H5_ITER_INC, &index, collect,
          Unmanaged.passUnretained(names).toOpaque())
      }
    }
    return names.values
  }

  /// Whether this object has an attribute named `name` (`H5Aexists`).
  public func hasAttribute(_ name: String) throws(HDF5Error) -> Bool {
    try hdf5Call("check attribute '\(name)'", errorPath) { H5Aexists(handle.id, name) } > 0
  }

  /// Writes a scalar 64-bit signed integer attribute, replacing any
  /// attribute of the same name.
  public func setAttribute(_ name: String, int64 value: Int64) throws(HDF5Error) {
    let attribute = try createAttribute(
      name, type: titrate_H5T_STD_I64LE(), shape: [])
    var value = value
    try hdf5Call("write attribute '\(name)'", errorPath) {
      H5Awrite(attribute.id, titrate_H5T_NATIVE_INT64(), &value)
    }
  }

  /// Writes a scalar variable-length UTF-8 string attribute, replacing any
  /// attribute of the same name. h5py reads it as `str`.
  ///
  /// - Throws: `HDF5Error` when `value` contains a NUL character, which a C
  ///   string cannot store.
  public func setAttribute(_ name: String, string value: String) throws(HDF5Error) {
    let operation = "write attribute '\(name)'"
    try rejectNUL([value], operation: operation, objectPath: errorPath)
    let type = try HDF5Handle.variableLengthUTF8(objectPath: errorPath)
    let attribute = try createAttribute(name, type: type.id, shape: [])
    _ = try withCStringPointers([value]) { (pointers) throws(HDF5Error) in
      try hdf5Call(operation, errorPath) { H5Awrite(attribute.id, type.id, pointers) }
    }
  }

  /// Reads an integer attribute of any integer type as `Int64`.
  ///
  /// - Throws: `HDF5Error` when the attribute is missing, is not a scalar
  ///   integer or does not fit in `Int64`.
  public func int64Attribute(_ name: String) throws(HDF5Error) -> Int64 {
    let attribute = try openAttribute(name)
    let (type, shape) = try attributeTypeAndShape(attribute, name: name)
    guard H5Tget_class(type.id) == H5T_INTEGER, shape.reduce(1, *) == 1 else {
      throw HDF5Error(
        operation: "read attribute '\(name)'", objectPath: errorPath,
        note: "stored \(try elementType(of: type, objectPath: errorPath)) of shape \(shape), "
          + "expected one integer")
    }
    var value: Int64 = 0
    try hdf5Call("read attribute '\(name)'", errorPath) {
      H5Aread(attribute.id, titrate_H5T_NATIVE_INT64(), &value)
    }
    return value
  }

  /// Reads a scalar string attribute, variable-length or fixed-length.
  ///
  /// - Throws: `HDF5Error` when the attribute is missing, is not one string
  ///   or is not valid UTF-8.
  public func stringAttribute(_ name: String) throws(HDF5Error) -> String {
    let attribute = try openAttribute(name)
    let (type, shape) = try attributeTypeAndShape(attribute, name: name)
    guard H5Tget_class(type.id) == H5T_STRING, shape.reduce(1, *) == 1 else {
      throw HDF5Error(
        operation: "read attribute '\(name)'", objectPath: errorPath,
        note: "stored \(try elementType(of: type, objectPath: errorPath)) of shape \(shape), "
          + "expected one string")
    }
    return try readStringValues(
      count: 1, fileType: type, objectPath: errorPath, operation: "read attribute '\(name)'"
    ) { (memoryType, buffer) in
      H5Aread(attribute.id, memoryType, buffer)
    }[0]
  }

  private func openAttribute(_ name: String) throws(HDF5Error) -> HDF5Handle {
    try HDF5Handle.attribute("open attribute '\(name)'", errorPath) {
      H5Aopen(handle.id, name, titrate_H5P_DEFAULT())
    }
  }

  private func attributeTypeAndShape(
    _ attribute: HDF5Handle, name: String
  ) throws(HDF5Error) -> (HDF5Handle, [Int]) {
    let type = try HDF5Handle.datatype("get attribute type '\(name)'", errorPath) {
      H5Aget_type(attribute.id)
    }
    let space = try HDF5Handle.dataspace("get attribute space '\(name)'", errorPath) {
      H5Aget_space(attribute.id)
    }
    return (type, try dataspaceShape(space, objectPath: errorPath))
  }

  private func createAttribute(
    _ name: String, type: hid_t, shape: [Int]
  ) throws(HDF5Error) -> HDF5Handle {
    if try hasAttribute(name) {
      try hdf5Call("delete attribute '\(name)'", errorPath) { H5Adelete(handle.id, name) }
    }
    let space = try HDF5Handle.dataspace(shape: shape, objectPath: errorPath)
    return try HDF5Handle.attribute("create attribute '\(name)'", errorPath) {
      H5Acreate2(handle.id, name, type, space.id, titrate_H5P_DEFAULT(), titrate_H5P_DEFAULT())
    }
  }
}
