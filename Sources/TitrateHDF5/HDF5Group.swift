import CHDF5

/// Kind of a group member.
public enum HDF5MemberKind: Sendable, Equatable {
  /// A group.
  case group
  /// A dataset.
  case dataset
  /// Any other object, such as a committed datatype.
  case other
}

/// One link in a group: its name and the kind of object it leads to.
public struct HDF5Member: Sendable, Equatable {
  /// Link name inside the group, one path component.
  public var name: String
  /// Kind of the linked object.
  public var kind: HDF5MemberKind

  /// Creates a member description.
  public init(name: String, kind: HDF5MemberKind) {
    self.name = name
    self.kind = kind
  }
}

/// An open HDF5 group.
public final class HDF5Group: HDF5Object {
  /// Creates a group at `relativePath`, creating missing intermediate groups.
  ///
  /// - Parameter relativePath: one or more names separated by `/`.
  /// - Throws: `HDF5Error` from `H5Gcreate2`, for example when the name exists.
  @discardableResult
  public func createGroup(_ relativePath: String) throws(HDF5Error) -> HDF5Group {
    let childPath = objectPath(of: relativePath)
    let linkProperties = try intermediateGroupLinkProperties(childPath)
    let id = try hdf5Call("create group", "\(filePath):\(childPath)") {
      H5Gcreate2(
        handle.id, relativePath, linkProperties.id, titrate_H5P_DEFAULT(), titrate_H5P_DEFAULT())
    }
    return HDF5Group(handle: HDF5Handle(id, close: H5Gclose), filePath: filePath, objectPath: childPath)
  }

  /// Opens the existing group at `relativePath`.
  public func openGroup(_ relativePath: String) throws(HDF5Error) -> HDF5Group {
    let childPath = objectPath(of: relativePath)
    let id = try hdf5Call("open group", "\(filePath):\(childPath)") {
      H5Gopen2(handle.id, relativePath, titrate_H5P_DEFAULT())
    }
    return HDF5Group(handle: HDF5Handle(id, close: H5Gclose), filePath: filePath, objectPath: childPath)
  }

  /// Opens the existing dataset at `relativePath`.
  public func openDataset(_ relativePath: String) throws(HDF5Error) -> HDF5Dataset {
    let childPath = objectPath(of: relativePath)
    let id = try hdf5Call("open dataset", "\(filePath):\(childPath)") {
      H5Dopen2(handle.id, relativePath, titrate_H5P_DEFAULT())
    }
    return HDF5Dataset(handle: HDF5Handle(id, close: H5Dclose), filePath: filePath, objectPath: childPath)
  }

  /// Lists the group's links in increasing name order, with the kind of
  /// object each leads to.
  public func members() throws(HDF5Error) -> [HDF5Member] {
    final class Names {
      var values: [String] = []
    }
    let names = Names()
    let collect: H5L_iterate_t = { _, name, _, context in
      guard let name, let context else { return -1 }
      Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().values.append(String(cString: name))
      return 0
    }
    var index: hsize_t = 0
    _ = try withExtendedLifetime(names) { () throws(HDF5Error) in
      try hdf5Call("list members", errorPath) {
        H5Literate(
          handle.id, H5_INDEX_NAME, H5_ITER_INC, &index, collect,
          Unmanaged.passUnretained(names).toOpaque())
      }
    }
    var members: [HDF5Member] = []
    for name in names.values {
      members.append(HDF5Member(name: name, kind: try memberKind(name)))
    }
    return members
  }

  /// Whether a link named `name` exists in this group (`H5Lexists`).
  ///
  /// - Parameter name: one path component, without `/`.
  public func contains(_ name: String) throws(HDF5Error) -> Bool {
    try hdf5Call("check link", "\(filePath):\(objectPath(of: name))") {
      H5Lexists(handle.id, name, titrate_H5P_DEFAULT())
    } > 0
  }

  private func memberKind(_ name: String) throws(HDF5Error) -> HDF5MemberKind {
    let childPath = "\(filePath):\(objectPath(of: name))"
    let object = HDF5Handle(
      try hdf5Call("open object", childPath) { H5Oopen(handle.id, name, titrate_H5P_DEFAULT()) },
      close: H5Oclose)
    switch H5Iget_type(object.id) {
    case H5I_GROUP: return .group
    case H5I_DATASET: return .dataset
    default: return .other
    }
  }

  /// Link creation properties that create missing intermediate groups.
  func intermediateGroupLinkProperties(_ childPath: String) throws(HDF5Error) -> HDF5Handle {
    let properties = try HDF5Handle.propertyList("create link properties", childPath) {
      H5Pcreate(titrate_H5P_LINK_CREATE())
    }
    try hdf5Call("enable intermediate groups", childPath) {
      H5Pset_create_intermediate_group(properties.id, 1)
    }
    return properties
  }

  /// Absolute object path of `relativePath` below this group.
  func objectPath(of relativePath: String) -> String {
    objectPath == "/" ? "/" + relativePath : objectPath + "/" + relativePath
  }
}
