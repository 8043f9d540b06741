import CHDF5

/// An open HDF5 dataset.
public final class HDF5Dataset: HDF5Object {
  /// Dimensions, outermost first; `[]` for a scalar dataset.
  public func shape() throws(HDF5Error) -> [Int] {
    let space = try HDF5Handle.dataspace("get dataspace", errorPath) { H5Dget_space(handle.id) }
    return try dataspaceShape(space, objectPath: errorPath)
  }

  /// Stored element type.
  public func elementType() throws(HDF5Error) -> HDF5ElementType {
    let type = try fileType()
    return try TitrateHDF5.elementType(of: type, objectPath: errorPath)
  }

  /// Whether the dataset's filter pipeline includes the Fletcher-32 checksum,
  /// so that reading detects corrupted chunks.
  public func hasFletcher32Checksum() throws(HDF5Error) -> Bool {
    let properties = try HDF5Handle.propertyList("get creation properties", errorPath) {
      H5Dget_create_plist(handle.id)
    }
    let filterCount = try hdf5Call("count filters", errorPath) { H5Pget_nfilters(properties.id) }
    for index in 0..<UInt32(filterCount) {
      var flags: UInt32 = 0
      var elementCount = 0
      var configuration: UInt32 = 0
      let filter = H5Pget_filter2(
        properties.id, index, &flags, &elementCount, nil, 0, nil, &configuration)
      if filter == H5Z_FILTER_FLETCHER32 {
        return true
      }
    }
    return false
  }

  /// Reads all values in row-major order.
  ///
  /// - Throws: `HDF5Error` when the stored element type is not
  ///   `Element.elementType` (no silent conversion), or when HDF5 fails, for
  ///   example because a Fletcher-32 checksum does not match.
  public func read<Element: HDF5NumericElement>(
    as type: Element.Type = Element.self
  ) throws(HDF5Error) -> [Element] {
    let stored = try elementType()
    guard stored == Element.elementType else {
      throw HDF5Error(
        operation: "read dataset", objectPath: errorPath,
        note: "stored element type is \(stored), requested \(Element.elementType)")
    }
    let count = try shape().reduce(1, *)
    if count == 0 {
      return []
    }
    return try [Element](unsafeUninitializedCapacity: count) {
      (buffer, initializedCount) throws(HDF5Error) in
      try hdf5Call("read dataset", errorPath) {
        H5Dread(
          handle.id, Element.memoryTypeID, titrate_H5S_ALL(), titrate_H5S_ALL(),
          titrate_H5P_DEFAULT(), buffer.baseAddress)
      }
      initializedCount = count
    }
  }

  /// Reads all strings in row-major order, variable-length or fixed-length.
  ///
  /// - Throws: `HDF5Error` when the dataset does not store strings, a string
  ///   is not valid UTF-8 or HDF5 fails.
  public func readStrings() throws(HDF5Error) -> [String] {
    let type = try fileType()
    guard H5Tget_class(type.id) == H5T_STRING else {
      throw HDF5Error(
        operation: "read dataset", objectPath: errorPath,
        note: "stored element type is \(try TitrateHDF5.elementType(of: type, objectPath: errorPath)), "
          + "requested string")
    }
    let count = try shape().reduce(1, *)
    return try readStringValues(
      count: count, fileType: type, objectPath: errorPath, operation: "read dataset"
    ) { (memoryType, buffer) in
      H5Dread(
        handle.id, memoryType, titrate_H5S_ALL(), titrate_H5S_ALL(), titrate_H5P_DEFAULT(),
        buffer)
    }
  }

  private func fileType() throws(HDF5Error) -> HDF5Handle {
    try HDF5Handle.datatype("get datatype", errorPath) { H5Dget_type(handle.id) }
  }
}

// MARK: - Creating datasets

extension HDF5Group {
  /// Creates a numeric dataset at `relativePath` (creating intermediate
  /// groups) and writes `values`.
  ///
  /// Datasets with at least one element and rank 1 or more are chunked and
  /// pass through the Fletcher-32 checksum filter, so reading detects
  /// corrupted chunks. Scalar and empty datasets cannot be chunked this way
  /// and are stored contiguously without a checksum.
  ///
  /// - Parameters:
  ///   - relativePath: one or more names separated by `/`.
  ///   - shape: dimensions, outermost first; `[]` for a scalar.
  ///   - values: row-major values; the count must equal the product of `shape`.
  /// - Throws: `HDF5Error` when the name exists or HDF5 fails.
  @discardableResult
  public func createDataset<Element: HDF5NumericElement>(
    _ relativePath: String, shape: [Int], values: [Element]
  ) throws(HDF5Error) -> HDF5Dataset {
    let dataset = try createEmptyDataset(
      relativePath, shape: shape, fileTypeID: Element.fileTypeID,
      elementSizeBytes: MemoryLayout<Element>.stride, checksummed: true)
    if !values.isEmpty {
      _ = try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
        try hdf5Call("write dataset", dataset.errorPath) {
          H5Dwrite(
            dataset.handle.id, Element.memoryTypeID, titrate_H5S_ALL(), titrate_H5S_ALL(),
            titrate_H5P_DEFAULT(), buffer.baseAddress)
        }
      }
    }
    return dataset
  }

  /// Creates a variable-length UTF-8 string dataset (h5py reads it as `str`).
  ///
  /// - Parameters:
  ///   - relativePath: one or more names separated by `/`.
  ///   - shape: `[]` for one string, `[n]` for a list.
  ///   - values: row-major strings; none may contain NUL.
  @discardableResult
  public func createStringDataset(
    _ relativePath: String, shape: [Int], values: [String]
  ) throws(HDF5Error) -> HDF5Dataset {
    let childPath = objectPath(of: relativePath)
    try rejectNUL(values, operation: "write dataset", objectPath: "\(filePath):\(childPath)")
    let type = try HDF5Handle.variableLengthUTF8(objectPath: childPath)
    // NOTE: Fletcher-32 on a variable-length string dataset would cover only
    // the heap references, not the characters, so strings stay contiguous.
    let dataset = try createEmptyDataset(
      relativePath, shape: shape, fileTypeID: type.id, elementSizeBytes: 16, checksummed: false)
    if !values.isEmpty {
      _ = try withCStringPointers(values) { (pointers) throws(HDF5Error) in
        try hdf5Call("write dataset", dataset.errorPath) {
          H5Dwrite(
            dataset.handle.id, type.id, titrate_H5S_ALL(), titrate_H5S_ALL(),
            titrate_H5P_DEFAULT(), pointers)
        }
      }
    }
    return dataset
  }

  private func createEmptyDataset(
    _ relativePath: String, shape: [Int], fileTypeID: hid_t, elementSizeBytes: Int,
    checksummed: Bool
  ) throws(HDF5Error) -> HDF5Dataset {
    let childPath = objectPath(of: relativePath)
    let elementCount = shape.reduce(1, *)
    precondition(shape.allSatisfy { $0 >= 0 }, "dataset shape \(shape) has a negative dimension")
    let space = try HDF5Handle.dataspace(shape: shape, objectPath: childPath)
    let creation = try HDF5Handle.propertyList("create dataset properties", childPath) {
      H5Pcreate(titrate_H5P_DATASET_CREATE())
    }
    if checksummed && !shape.isEmpty && elementCount > 0 {
      let chunk = chunkShape(for: shape, elementSizeBytes: elementSizeBytes).map { hsize_t($0) }
      try hdf5Call("set chunk shape", childPath) {
        H5Pset_chunk(creation.id, Int32(chunk.count), chunk)
      }
      try hdf5Call("enable Fletcher-32 checksum", childPath) { H5Pset_fletcher32(creation.id) }
    }
    let linkProperties = try intermediateGroupLinkProperties(childPath)
    let id = try hdf5Call("create dataset", "\(filePath):\(childPath)") {
      H5Dcreate2(
        handle.id, relativePath, fileTypeID, space.id, linkProperties.id, creation.id,
        titrate_H5P_DEFAULT())
    }
    return HDF5Dataset(handle: HDF5Handle(id, close: H5Dclose), filePath: filePath, objectPath: childPath)
  }
}

/// Chunk dimensions for a dataset of `shape`: the whole array when it fits
/// in `maximumChunkBytes`, else the largest dimension halved until it fits.
/// Every chunk dimension is at least 1 and at most the dataset's.
func chunkShape(
  for shape: [Int], elementSizeBytes: Int, maximumChunkBytes: Int = 1 << 20
) -> [Int] {
  var chunk = shape.map { max($0, 1) }
  while chunk.reduce(elementSizeBytes, *) > maximumChunkBytes {
    guard let largest = chunk.indices.max(by: { chunk[$0] < chunk[$1] }), chunk[largest] > 1 else {
      break
    }
    chunk[largest] = (chunk[largest] + 1) / 2
  }
  return chunk
}
