import Foundation

/// A fresh directory under the system temporary directory, removed when the
/// value is released.
final class TemporaryDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("titrate-checkpoint-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// URL of `name` inside the directory.
  func file(_ name: String) -> URL {
    url.appendingPathComponent(name)
  }

  /// Names of the files in the directory, hidden ones included.
  func fileNames() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
  }

  deinit {
    try? FileManager.default.removeItem(at: url)
  }
}
