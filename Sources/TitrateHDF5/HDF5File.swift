import CHDF5

/// An open HDF5 file; closes on deinit unless `close()` was called.
///
/// Files are created with object formats from HDF5 1.8 onward
/// (`H5Pset_libver_bounds(V18, V110)`), which puts checksums on the
/// superblock and object headers, so HDF5 detects much corrupted metadata.
/// h5py 3.16 and the HDF5 1.10.8 tools read such files.
public final class HDF5File {
  /// How to open an existing file.
  public enum AccessMode: Sendable {
    /// Read only (`H5F_ACC_RDONLY`).
    case readOnly
    /// Read and write (`H5F_ACC_RDWR`).
    case readWrite
  }

  /// File system path the file was created or opened at.
  public let path: String
  let handle: HDF5Handle

  private init(path: String, handle: HDF5Handle) {
    self.path = path
    self.handle = handle
  }

  /// Creates a new file at `path`.
  ///
  /// - Parameters:
  ///   - path: file system path; its directory must exist.
  ///   - overwrite: when `true` an existing file is truncated
  ///     (`H5F_ACC_TRUNC`); when `false` an existing file makes this throw
  ///     (`H5F_ACC_EXCL`).
  ///   - userBlockBytes: bytes reserved at the start of the file that HDF5
  ///     leaves to the application (`H5Pset_userblock`): 0, or a power of
  ///     two of at least 512.
  /// - Throws: `HDF5Error` from `H5Fcreate`.
  public static func create(
    at path: String, overwrite: Bool = false, userBlockBytes: Int = 0
  ) throws(HDF5Error) -> HDF5File {
    let access = try fileAccessProperties(path: path)
    let creation = try HDF5Handle.propertyList("create file creation properties", path) {
      H5Pcreate(titrate_H5P_FILE_CREATE())
    }
    if userBlockBytes > 0 {
      try hdf5Call("set user block size \(userBlockBytes)", path) {
        H5Pset_userblock(creation.id, hsize_t(userBlockBytes))
      }
    }
    let flags = overwrite ? titrate_H5F_ACC_TRUNC() : titrate_H5F_ACC_EXCL()
    let id = try hdf5Call("create file", path) {
      H5Fcreate(path, flags, creation.id, access.id)
    }
    return HDF5File(path: path, handle: HDF5Handle(id, close: H5Fclose))
  }

  /// Opens an existing file at `path`.
  ///
  /// - Throws: `HDF5Error` from `H5Fopen`, for example when the file is
  ///   missing, is not an HDF5 file, is truncated or has a corrupted
  ///   superblock.
  public static func open(at path: String, mode: AccessMode = .readOnly) throws(HDF5Error) -> HDF5File {
    let access = try fileAccessProperties(path: path)
    let flags = mode == .readOnly ? titrate_H5F_ACC_RDONLY() : titrate_H5F_ACC_RDWR()
    let id = try hdf5Call("open file", path) { H5Fopen(path, flags, access.id) }
    return HDF5File(path: path, handle: HDF5Handle(id, close: H5Fclose))
  }

  private static func fileAccessProperties(path: String) throws(HDF5Error) -> HDF5Handle {
    let access = try HDF5Handle.propertyList("create file access properties", path) {
      H5Pcreate(titrate_H5P_FILE_ACCESS())
    }
    try hdf5Call("set library version bounds", path) {
      H5Pset_libver_bounds(access.id, H5F_LIBVER_V18, H5F_LIBVER_V110)
    }
    return access
  }

  /// Opens the root group `/`.
  public func rootGroup() throws(HDF5Error) -> HDF5Group {
    let id = try hdf5Call("open root group", path) { H5Gopen2(handle.id, "/", titrate_H5P_DEFAULT()) }
    return HDF5Group(handle: HDF5Handle(id, close: H5Gclose), filePath: path, objectPath: "/")
  }

  /// Writes all buffered data and metadata to the file (`H5Fflush`).
  public func flush() throws(HDF5Error) {
    try hdf5Call("flush file", path) { H5Fflush(handle.id, H5F_SCOPE_LOCAL) }
  }

  /// Flushes and closes the file (`H5Fclose`).
  ///
  /// - Throws: `HDF5Error` when flushing fails, or when groups, datasets or
  ///   attributes of this file are still open: HDF5 would then keep the file
  ///   open past this call, so release them first.
  public func close() throws(HDF5Error) {
    try flush()
    let openObjects = try hdf5Call("count open objects", path) {
      H5Fget_obj_count(handle.id, titrate_H5F_OBJ_ALL_LOCAL())
    }
    if openObjects > 1 {
      throw HDF5Error(
        operation: "close file", objectPath: path,
        note: "\(openObjects - 1) groups, datasets or attributes are still open; "
          + "release them before closing the file")
    }
    try handle.close(operation: "close file", objectPath: path)
  }
}
