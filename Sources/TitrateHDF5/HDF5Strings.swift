import CHDF5

#if canImport(Glibc)
  import Glibc
#endif

/// Throws when a string contains NUL, which HDF5's C strings would cut off.
func rejectNUL(_ values: [String], operation: String, objectPath: String) throws(HDF5Error) {
  if let index = values.firstIndex(where: { $0.utf8.contains(0) }) {
    throw HDF5Error(
      operation: operation, objectPath: objectPath,
      note: "string \(index) contains a NUL character, which HDF5 C strings cannot store; "
        + "remove it or store the bytes as a numeric array")
  }
}

/// Calls `body` with a buffer of C string pointers, one per value, as HDF5
/// expects for variable-length strings. The strings are freed afterwards.
func withCStringPointers<Result>(
  _ values: [String], _ body: (UnsafeRawPointer) throws(HDF5Error) -> Result
) throws(HDF5Error) -> Result {
  var pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
  defer { pointers.forEach { free($0) } }
  return try pointers.withUnsafeMutableBufferPointer { (buffer) throws(HDF5Error) in
    // An empty array still needs a valid address for HDF5's argument check.
    guard let base = buffer.baseAddress else {
      var placeholder: UnsafeMutablePointer<CChar>? = nil
      return try withUnsafePointer(to: &placeholder) { (pointer) throws(HDF5Error) in
        try body(UnsafeRawPointer(pointer))
      }
    }
    return try body(UnsafeRawPointer(base))
  }
}

/// Reads `count` strings stored with `fileType`, variable-length or
/// fixed-length, through `read(memoryType, buffer)`, which wraps `H5Dread` or
/// `H5Aread`. Variable-length memory is returned to HDF5 with
/// `H5Dvlen_reclaim`.
func readStringValues(
  count: Int, fileType: HDF5Handle, objectPath: String, operation: String,
  read: (hid_t, UnsafeMutableRawPointer) -> herr_t
) throws(HDF5Error) -> [String] {
  if count == 0 {
    return []
  }
  let isVariable = try hdf5Call("check string kind", objectPath) {
    H5Tis_variable_str(fileType.id)
  } > 0
  let memoryType = try HDF5Handle.datatype("copy string datatype", objectPath) {
    H5Tcopy(fileType.id)
  }
  var texts: [String?] = []
  if isVariable {
    var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
    try hdf5Call(operation, objectPath) { read(memoryType.id, &pointers) }
    // A null pointer is how HDF5 returns an empty variable-length string.
    texts = pointers.map { pointer in
      guard let pointer else { return "" }
      return String(validatingCString: pointer)
    }
    let space = try HDF5Handle.dataspace(shape: [count], objectPath: objectPath)
    try hdf5Call("release string memory", objectPath) {
      H5Dvlen_reclaim(memoryType.id, space.id, titrate_H5P_DEFAULT(), &pointers)
    }
  } else {
    let sizeBytes = H5Tget_size(memoryType.id)
    var bytes = [UInt8](repeating: 0, count: sizeBytes * count)
    try hdf5Call(operation, objectPath) { read(memoryType.id, &bytes) }
    for index in 0..<count {
      let field = bytes[(index * sizeBytes)..<((index + 1) * sizeBytes)]
      let content = field.prefix { $0 != 0 }
      texts.append(String(validating: Array(content), as: UTF8.self))
    }
  }
  if let invalidIndex = texts.firstIndex(where: { $0 == nil }) {
    throw HDF5Error(
      operation: operation, objectPath: objectPath,
      note: "string \(invalidIndex) is not valid UTF-8; the file may be corrupted")
  }
  return texts.map { $0! }
}
