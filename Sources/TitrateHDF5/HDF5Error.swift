import CHDF5

/// A failed HDF5 library call, with the messages from HDF5's error stack.
///
/// HDF5 reports failure through a negative return value and a per-thread error
/// stack. The wrappers in this module turn off HDF5's default printing of that
/// stack to standard error and copy it into this error instead.
public struct HDF5Error: Error, CustomStringConvertible, Sendable, Equatable {
  /// One record of HDF5's error stack, innermost call first.
  public struct StackRecord: Sendable, Equatable {
    /// HDF5 function that pushed the record, for example `H5F__super_read`.
    public var functionName: String
    /// Major error class, for example "File accessibility".
    public var majorMessage: String
    /// Minor error class, for example "File has been truncated".
    public var minorMessage: String
    /// Free-form detail from the library, for example the stored end of file.
    public var detail: String
  }

  /// Operation that failed, in words ("open file", "read dataset").
  public var operation: String
  /// File path or object path inside the file that the operation acted on.
  public var objectPath: String
  /// HDF5 error stack at the time of failure, innermost record first. Empty
  /// when the failure was detected by this wrapper, not by HDF5.
  public var stack: [StackRecord]
  /// Extra explanation from this wrapper, empty when HDF5's stack says it all.
  public var note: String

  /// Creates an error; `stack` is normally taken from HDF5 with
  /// `HDF5Error.takeStack()`.
  public init(
    operation: String, objectPath: String, stack: [StackRecord] = [], note: String = ""
  ) {
    self.operation = operation
    self.objectPath = objectPath
    self.stack = stack
    self.note = note
  }

  /// The innermost minor message, which usually names the cause
  /// ("File has been truncated", "Data error detected by Fletcher32 checksum").
  public var cause: String {
    if let innermost = stack.first {
      return innermost.minorMessage
    }
    return note
  }

  /// One-line summary followed by the stack records, innermost first.
  public var description: String {
    var text = "HDF5 failed to \(operation) at '\(objectPath)'"
    if !note.isEmpty {
      text += ": \(note)"
    }
    for record in stack {
      text += "\n  \(record.functionName): \(record.majorMessage) / \(record.minorMessage)"
      if !record.detail.isEmpty {
        text += " (\(record.detail))"
      }
    }
    return text
  }

  /// Whether any stack record's minor message contains `text`, ignoring case.
  public func stackMentions(_ text: String) -> Bool {
    let needle = text.lowercased()
    return stack.contains {
      $0.minorMessage.lowercased().contains(needle) || $0.detail.lowercased().contains(needle)
    }
  }
}

// MARK: - Calling HDF5

/// Turns off HDF5's automatic printing of the error stack for the calling
/// thread. The thread-safe HDF5 build keeps one error stack per thread, so
/// every call path in this module calls this before its first HDF5 call.
@inline(__always)
func silenceHDF5ErrorPrinting() {
  H5Eset_auto2(titrate_H5E_DEFAULT(), nil, nil)
}

/// Runs one HDF5 call and throws `HDF5Error` when it returns a negative
/// value, which is HDF5's failure convention for `hid_t`, `herr_t`, `htri_t`
/// and `ssize_t` results.
@discardableResult
func hdf5Call<Result: BinaryInteger>(
  _ operation: String, _ objectPath: String, _ body: () -> Result
) throws(HDF5Error) -> Result {
  silenceHDF5ErrorPrinting()
  let result = body()
  if result < 0 {
    throw HDF5Error(
      operation: operation, objectPath: objectPath, stack: HDF5Error.takeStack())
  }
  return result
}

extension HDF5Error {
  /// Copies and clears the calling thread's HDF5 error stack.
  static func takeStack() -> [StackRecord] {
    final class Collector {
      var records: [StackRecord] = []
    }
    let collector = Collector()
    let walker: H5E_walk2_t = { _, descriptor, clientData in
      guard let descriptor, let clientData else { return 0 }
      let collector = Unmanaged<Collector>.fromOpaque(clientData).takeUnretainedValue()
      let error = descriptor.pointee
      collector.records.append(
        StackRecord(
          functionName: error.func_name.map { String(cString: $0) } ?? "",
          majorMessage: HDF5Error.messageText(error.maj_num),
          minorMessage: HDF5Error.messageText(error.min_num),
          detail: error.desc.map { String(cString: $0) } ?? ""))
      return 0
    }
    let context = Unmanaged.passUnretained(collector).toOpaque()
    H5Ewalk2(titrate_H5E_DEFAULT(), H5E_WALK_UPWARD, walker, context)
    H5Eclear2(titrate_H5E_DEFAULT())
    return withExtendedLifetime(collector) { collector.records }
  }

  /// Text of one HDF5 error message class, or its numeric id when HDF5 has
  /// no text for it.
  static func messageText(_ messageID: hid_t) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    var type = H5E_MAJOR
    let length = H5Eget_msg(messageID, &type, &buffer, buffer.count)
    if length <= 0 {
      return "message \(messageID)"
    }
    return String(decoding: buffer.prefix(while: { $0 != 0 }).map(UInt8.init(bitPattern:)), as: UTF8.self)
  }
}
