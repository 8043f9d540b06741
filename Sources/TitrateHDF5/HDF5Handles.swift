import CHDF5

/// Owner of one HDF5 identifier (`hid_t`) that closes it on deinit.
///
/// Every identifier this module opens lives in exactly one `HDF5Handle`, so
/// no code outside the module sees a bare `hid_t`. The close function
/// depends on the identifier's kind (`H5Fclose`, `H5Gclose`, `H5Dclose`, ...).
final class HDF5Handle {
  let id: hid_t
  private let closeFunction: (hid_t) -> herr_t
  private var isOpen = true

  init(_ id: hid_t, close: @escaping (hid_t) -> herr_t) {
    self.id = id
    self.closeFunction = close
  }

  /// Closes the identifier now and reports a failed close, which for files
  /// can mean that buffered data could not be flushed.
  func close(operation: String, objectPath: String) throws(HDF5Error) {
    guard isOpen else { return }
    isOpen = false
    try hdf5Call(operation, objectPath) { closeFunction(id) }
  }

  deinit {
    if isOpen {
      silenceHDF5ErrorPrinting()
      _ = closeFunction(id)
    }
  }
}

extension HDF5Handle {
  /// Opens a dataspace handle from `H5Screate*` or `H5Dget_space`.
  static func dataspace(
    _ operation: String, _ objectPath: String, _ body: () -> hid_t
  ) throws(HDF5Error) -> HDF5Handle {
    HDF5Handle(try hdf5Call(operation, objectPath, body), close: H5Sclose)
  }

  /// Opens a datatype handle from `H5Tcopy` or `H5Dget_type`.
  static func datatype(
    _ operation: String, _ objectPath: String, _ body: () -> hid_t
  ) throws(HDF5Error) -> HDF5Handle {
    HDF5Handle(try hdf5Call(operation, objectPath, body), close: H5Tclose)
  }

  /// Opens a property list handle from `H5Pcreate`.
  static func propertyList(
    _ operation: String, _ objectPath: String, _ body: () -> hid_t
  ) throws(HDF5Error) -> HDF5Handle {
    HDF5Handle(try hdf5Call(operation, objectPath, body), close: H5Pclose)
  }

  /// Opens an attribute handle from `H5Acreate2` or `H5Aopen`.
  static func attribute(
    _ operation: String, _ objectPath: String, _ body: () -> hid_t
  ) throws(HDF5Error) -> HDF5Handle {
    HDF5Handle(try hdf5Call(operation, objectPath, body), close: H5Aclose)
  }

  /// Creates a simple dataspace of `shape`, or a scalar one for `[]`.
  static func dataspace(shape: [Int], objectPath: String) throws(HDF5Error) -> HDF5Handle {
    if shape.isEmpty {
      return try dataspace("create scalar dataspace", objectPath) { H5Screate(H5S_SCALAR) }
    }
    let dimensions = shape.map { hsize_t($0) }
    return try dataspace("create dataspace \(shape)", objectPath) {
      H5Screate_simple(Int32(dimensions.count), dimensions, nil)
    }
  }

  /// Creates a variable-length UTF-8 string datatype, which h5py reads as
  /// `str`.
  static func variableLengthUTF8(objectPath: String) throws(HDF5Error) -> HDF5Handle {
    let type = try datatype("copy string datatype", objectPath) { H5Tcopy(titrate_H5T_C_S1()) }
    try hdf5Call("set variable string size", objectPath) {
      H5Tset_size(type.id, titrate_H5T_VARIABLE())
    }
    try hdf5Call("set UTF-8 character set", objectPath) { H5Tset_cset(type.id, H5T_CSET_UTF8) }
    return type
  }
}

/// Reads the shape of a dataspace; `[]` for a scalar dataspace.
func dataspaceShape(_ space: HDF5Handle, objectPath: String) throws(HDF5Error) -> [Int] {
  let rank = try hdf5Call("get dataspace rank", objectPath) {
    H5Sget_simple_extent_ndims(space.id)
  }
  if rank == 0 {
    return []
  }
  var dimensions = [hsize_t](repeating: 0, count: Int(rank))
  try hdf5Call("get dataspace dimensions", objectPath) {
    H5Sget_simple_extent_dims(space.id, &dimensions, nil)
  }
  return dimensions.map { Int($0) }
}
