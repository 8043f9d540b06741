import Foundation
import TitrateZMQ

/// `titrate keys generate`: writes a CURVE key pair for an aggregator or
/// a site.
///
/// NAME.key holds the secret key (Z85, one line), created with mode 0600
/// and never overwritten. NAME.pub holds the public key (mode 0644), which
/// is handed to the other side. The folder must exist and must not be
/// writable by every user, since anyone who could write there could swap
/// the key files; a world-readable folder is accepted because the secret
/// file's own mode keeps it private.
enum KeysCommand {
  static let usage = "titrate keys generate --output DIR --name NAME"

  static let options: [OptionSpecification] = [
    .init(
      name: "output", valueName: "DIR",
      help: "existing folder for NAME.key (secret, mode 0600) and NAME.pub", defaultValue: nil),
    .init(
      name: "name", valueName: "NAME",
      help: "key name: the site name for a site, any name for the aggregator; 1-64 of "
        + "A-Z a-z 0-9 _ -",
      defaultValue: nil),
  ]

  static func run(_ arguments: [String]) throws {
    guard
      let parsed = try parseCommandLine(
        command: "keys", arguments: arguments, usage: usage,
        summary: "Generate a CURVE key pair for titrate aggregator or titrate site.",
        options: options,
        details:
          "Refuses to overwrite existing key files and to write into a folder that every user "
          + "may write to. Give NAME.pub to the other side: a site's to the aggregator's "
          + "--allow list, the aggregator's to every site's --server-public.")
    else { return }
    guard parsed.positionals == ["generate"] else {
      throw CommandError.usage("'titrate keys' needs the action 'generate'; usage: \(usage)")
    }
    let folder = try parsed.requiredOption("output")
    let name = try parsed.requiredOption("name")
    guard isValidKeyName(name) else {
      throw CommandError.usage(
        "--name '\(name)' is not a key name: use 1-64 of A-Z a-z 0-9 _ -, for example icu_arc")
    }
    try checkKeyFolder(folder)

    let pair: CurveKeyPair
    do {
      pair = try CurveKeyPair.generate()
    } catch {
      throw CommandError.failure("\(error); install libzmq3-dev built with libsodium")
    }
    let secretPath = (folder as NSString).appendingPathComponent("\(name).key")
    let publicPath = (folder as NSString).appendingPathComponent("\(name).pub")
    if FileManager.default.fileExists(atPath: publicPath) {
      throw CommandError.usage("\(publicPath) exists; choose another --name or remove the old pair")
    }
    try writeNewFile(secretPath, text: pair.secretKey + "\n", mode: 0o600)
    try writeNewFile(publicPath, text: pair.publicKey + "\n", mode: 0o644)
    print("wrote \(secretPath) (secret, mode 0600) and \(publicPath)")
  }

  static func isValidKeyName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.count <= 64
      && name.unicodeScalars.allSatisfy {
        ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0)
          || $0 == "_" || $0 == "-"
      }
  }

  private static func checkKeyFolder(_ folder: String) throws {
    var status = stat()
    guard stat(folder, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
      throw CommandError.usage("--output \(folder) is not an existing folder; create it first")
    }
    if status.st_mode & S_IWOTH != 0 {
      throw CommandError.usage(
        "--output \(folder) is writable by every user (mode "
          + String(status.st_mode & 0o777, radix: 8) + "), so anyone could replace the keys; "
          + "use a private folder, for example one made with mkdir -m 700")
    }
  }

  /// Creates `path` with `mode`, failing when it exists (`O_EXCL`).
  private static func writeNewFile(_ path: String, text: String, mode: mode_t) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    guard descriptor >= 0 else {
      if errno == EEXIST {
        throw CommandError.usage("\(path) exists; choose another --name or remove the old pair")
      }
      throw CommandError.failure("cannot create \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    // The umask may only clear bits, but set the mode explicitly anyway.
    fchmod(descriptor, mode)
    let bytes = Array(text.utf8)
    guard write(descriptor, bytes, bytes.count) == bytes.count, fsync(descriptor) == 0 else {
      throw CommandError.failure("cannot write \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Reads a key file written by `keys generate`. A secret key file must
  /// not be readable by group or others.
  static func readKey(_ path: String, secret: Bool, option: String) throws -> String {
    var status = stat()
    guard stat(path, &status) == 0 else {
      throw CommandError.usage("--\(option) \(path): file not found")
    }
    // Both halves are 40 characters of Z85, so only the file names that
    // `keys generate` uses distinguish them.
    if secret && path.hasSuffix(".pub") {
      throw CommandError.usage(
        "--\(option) \(path) is a public key file ('keys generate' writes NAME.pub and the "
          + "secret NAME.key); give the .key file")
    }
    if !secret && path.hasSuffix(".key") {
      throw CommandError.usage(
        "--\(option) \(path) is a secret key file ('keys generate' writes NAME.key and the "
          + "public NAME.pub); give the .pub file, and keep the .key file where it was made")
    }
    if secret && status.st_mode & 0o077 != 0 {
      throw CommandError.usage(
        "--\(option) \(path) has mode " + String(status.st_mode & 0o777, radix: 8)
          + ", so other users may read the secret key; run chmod 600 \(path)")
    }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw CommandError.invalidInput("--\(option) \(path): cannot read the file as UTF-8 text")
    }
    let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
    do {
      _ = try CurveKeyPair.decode(key, role: secret ? "secret key" : "public key")
    } catch {
      throw CommandError.invalidInput("--\(option) \(path): \(error.message)")
    }
    return key
  }
}

extension ParsedOptions {
  /// Returns the value of an option without a default, or reports it
  /// missing.
  func requiredOption(_ name: String) throws -> String {
    guard let value = string(name), !value.isEmpty else {
      throw CommandError.usage("'titrate \(command)' needs --\(name)")
    }
    return value
  }
}
