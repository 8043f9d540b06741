import Foundation
import Testing

/// `titrate keys generate` and the permission checks on key files.
struct KeysCommandTests {
  static func mode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as! NSNumber).intValue
  }

  @Test func writesSecretWithMode600() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = try NetworkLaunch.titrate(
      ["keys", "generate", "--output", folder.path, "--name", "icu_arc"], folder: folder,
      label: "keys")
    #expect(run.status == 0, "\(run.errors)")
    let secret = folder.appendingPathComponent("icu_arc.key").path
    let publicKey = folder.appendingPathComponent("icu_arc.pub").path
    #expect(try Self.mode(secret) == 0o600)
    #expect(try Self.mode(publicKey) == 0o644)
    let secretText = try String(contentsOfFile: secret, encoding: .utf8)
    let publicText = try String(contentsOfFile: publicKey, encoding: .utf8)
    #expect(secretText.count == 41)
    #expect(publicText.count == 41)
    #expect(secretText != publicText)
  }

  @Test func refusesToOverwrite() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let arguments = ["keys", "generate", "--output", folder.path, "--name", "icu_arc"]
    let first = try NetworkLaunch.titrate(arguments, folder: folder, label: "first")
    #expect(first.status == 0)
    let before = try String(
      contentsOfFile: folder.appendingPathComponent("icu_arc.key").path, encoding: .utf8)
    let second = try NetworkLaunch.titrate(arguments, folder: folder, label: "second")
    #expect(second.status == 2)
    #expect(second.errors.contains("exists"))
    let after = try String(
      contentsOfFile: folder.appendingPathComponent("icu_arc.key").path, encoding: .utf8)
    #expect(before == after)
  }

  @Test func refusesWorldWritableFolder() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let open = folder.appendingPathComponent("open")
    try FileManager.default.createDirectory(at: open, withIntermediateDirectories: false)
    chmod(open.path, 0o777)
    let run = try NetworkLaunch.titrate(
      ["keys", "generate", "--output", open.path, "--name", "icu_arc"], folder: folder,
      label: "keys")
    #expect(run.status == 2)
    #expect(run.errors.contains("writable by every user (mode 777)"))
    #expect(
      !FileManager.default.fileExists(atPath: open.appendingPathComponent("icu_arc.key").path))
  }

  @Test func rejectsInvalidName() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = try NetworkLaunch.titrate(
      ["keys", "generate", "--output", folder.path, "--name", "../escape"], folder: folder,
      label: "keys")
    #expect(run.status == 2)
    #expect(run.errors.contains("is not a key name"))
  }

  @Test func siteRejectsReadableSecretKey() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(["server", "icu_arc"], allowed: [], folder: folder)
    let secret = folder.appendingPathComponent("keys/icu_arc.key").path
    chmod(secret, 0o644)
    let run = try NetworkLaunch.titrate(
      NetworkLaunch.siteArguments("icu_arc", endpoint: "tcp://127.0.0.1:1", folder: folder),
      folder: folder, label: "site")
    #expect(run.status == 2)
    #expect(run.errors.contains("has mode 644, so other users may read the secret key"))
  }

  /// A public key given as a secret key, or the other way round, is named
  /// as such before its mode is checked. Otherwise chmod 600 on a .pub file
  /// would pass it as a secret key that no site can match.
  @Test func swappedKeyFilesAreNamed() throws {
    let folder = try NetworkLaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try NetworkLaunch.makeKeys(["server", "icu_arc"], allowed: [], folder: folder)
    let keys = folder.appendingPathComponent("keys")
    var arguments = NetworkLaunch.siteArguments(
      "icu_arc", endpoint: "tcp://127.0.0.1:1", folder: folder)
    let key = try #require(arguments.firstIndex(of: "--key"))
    arguments[key + 1] = keys.appendingPathComponent("icu_arc.pub").path
    let publicAsSecret = try NetworkLaunch.titrate(arguments, folder: folder, label: "site")
    #expect(publicAsSecret.status == 2)
    #expect(publicAsSecret.errors.contains("icu_arc.pub is a public key file"))
    #expect(publicAsSecret.errors.contains("give the .key file"))

    arguments[key + 1] = keys.appendingPathComponent("icu_arc.key").path
    let server = try #require(arguments.firstIndex(of: "--server-public"))
    arguments[server + 1] = keys.appendingPathComponent("server.key").path
    let secretAsPublic = try NetworkLaunch.titrate(arguments, folder: folder, label: "site")
    #expect(secretAsPublic.status == 2)
    #expect(secretAsPublic.errors.contains("server.key is a secret key file"))
  }
}
