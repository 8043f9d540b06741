import CMPI

/// A failed MPI call: the function, its return code and Open MPI's text
/// for that code.
public struct MPIError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The MPI function that failed, for example `MPI_Gatherv`.
  public var call: String
  /// The return code (`MPI_SUCCESS` is 0), or -1 for a check this wrapper
  /// makes before calling MPI.
  public var code: Int32
  /// Open MPI's description of the code, or the wrapper's reason.
  public var message: String

  public init(call: String, code: Int32, message: String) {
    self.call = call
    self.code = code
    self.message = message
  }

  public var description: String {
    "\(call) failed with code \(code): \(message)"
  }
}

/// Throws an `MPIError` naming `call` unless `code` is `MPI_SUCCESS`.
@inline(__always)
func check(_ code: Int32, _ call: String) throws(MPIError) {
  guard code != titrate_MPI_SUCCESS() else { return }
  throw MPIError(call: call, code: code, message: errorString(code))
}

/// Returns Open MPI's text for an error code (calls `MPI_Error_string`).
func errorString(_ code: Int32) -> String {
  var buffer = [CChar](repeating: 0, count: Int(titrate_MPI_MAX_ERROR_STRING()) + 1)
  var length: Int32 = 0
  guard MPI_Error_string(code, &buffer, &length) == titrate_MPI_SUCCESS() else {
    return "unknown MPI error"
  }
  let bytes = buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}
