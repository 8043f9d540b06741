import Foundation
import TitrateHashing

/// The header Titrate writes into the HDF5 user block, the first 512 bytes
/// of every checkpoint file, which HDF5 leaves to the application.
///
/// It records the file's length and the SHA-256 of every byte after the
/// header. Reading checks both before HDF5 parses the file, so a truncated
/// or corrupted file is rejected even where HDF5 itself has no checksum.
/// This matters because HDF5 1.10.8 crashed reading a variable-length string
/// whose global heap entry had one flipped byte in its size field.
///
/// The header is ASCII text padded with zero bytes:
///
///     TITRATE CHECKPOINT SEAL 1
///     length <file length in bytes, decimal>
///     sha256 <64 lower-case hexadecimal digits>
struct CheckpointSeal: Equatable {
  /// Size of the user block, the smallest HDF5 allows.
  static let headerByteCount = 512
  static let firstLine = "TITRATE CHECKPOINT SEAL 1\n"
  /// Signature at the start of an HDF5 file without a user block.
  static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

  /// Total file length in bytes, header included.
  var fileByteCount: Int
  /// SHA-256 of the bytes after the header, as lower-case hexadecimal.
  var sha256Hex: String

  /// Returns the 512 header bytes.
  func headerBytes() -> [UInt8] {
    let text = Self.firstLine + "length \(fileByteCount)\n" + "sha256 \(sha256Hex)\n"
    var bytes = Array(text.utf8)
    precondition(bytes.count <= Self.headerByteCount, "checkpoint seal text is too long")
    bytes += [UInt8](repeating: 0, count: Self.headerByteCount - bytes.count)
    return bytes
  }

  /// Seal for a file whose bytes are `fileBytes`, header bytes included.
  static func computed(forFile fileBytes: Data) -> CheckpointSeal {
    var hasher = SHA256()
    fileBytes.withUnsafeBytes { buffer in
      hasher.update(UnsafeRawBufferPointer(rebasing: buffer[headerByteCount...]))
    }
    return CheckpointSeal(
      fileByteCount: fileBytes.count, sha256Hex: SHA256.hexString(hasher.finalize()))
  }

  /// Parses a header; returns `nil` unless `bytes` starts with exactly the
  /// bytes `headerBytes()` would produce.
  static func parse(_ bytes: Data) -> CheckpointSeal? {
    guard bytes.count >= headerByteCount else { return nil }
    let header = Array(bytes.prefix(headerByteCount))
    let text = String(decoding: header.prefix { $0 != 0 }, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count == 4, lines[0] + "\n" == firstLine,
      lines[1].hasPrefix("length "), lines[2].hasPrefix("sha256 "),
      let length = Int(lines[1].dropFirst("length ".count))
    else {
      return nil
    }
    let seal = CheckpointSeal(fileByteCount: length, sha256Hex: String(lines[2].dropFirst(7)))
    return seal.headerBytes() == header ? seal : nil
  }

  /// Writes the seal of the finished HDF5 file at `path` into its user block.
  static func seal(fileAtPath path: String) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    let bytes = try handle.readToEnd() ?? Data()
    let seal = computed(forFile: bytes)
    try handle.seek(toOffset: 0)
    try handle.write(contentsOf: Data(seal.headerBytes()))
    try handle.synchronize()
  }
}
