import Foundation
import TitrateEnvironments

/// Repository root, found from this file's path (fixtures are not SwiftPM
/// resources).
let repositoryRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shipped definition file.
let shippedDefinitionURL = repositoryRoot.appendingPathComponent(
  "Environments/vancomycin.json")

/// Folder of malformed definition variants.
let definitionFixtures = repositoryRoot.appendingPathComponent(
  "Tests/Fixtures/environments")

/// The shipped definition, loaded once.
let shippedDefinition: EnvironmentDefinition = {
  do {
    return try EnvironmentDefinition.load(from: shippedDefinitionURL)
  } catch {
    fatalError("shipped definition failed to load: \(error)")
  }
}()

/// The shipped definition's JSON as a mutable tree, for building variants.
func shippedJSONTree() -> [String: Any] {
  let data = try! Data(contentsOf: shippedDefinitionURL)
  return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
}

/// Decodes a JSON tree as a definition, returning the error if any.
func decodeError(_ tree: [String: Any]) -> EnvironmentDefinitionError? {
  decodeDataError(try! JSONSerialization.data(withJSONObject: tree))
}

/// Decodes definition bytes and returns the error, or nil when they load.
func decodeDataError(_ data: Data) -> EnvironmentDefinitionError? {
  do {
    _ = try EnvironmentDefinition.decode(from: data)
    return nil
  } catch {
    return error
  }
}

/// Sets a value at a dotted path in a JSON tree (object keys only).
func setting(_ tree: [String: Any], _ path: [String], to value: Any?) -> [String: Any] {
  var copy = tree
  guard let key = path.first else { return copy }
  if path.count == 1 {
    copy[key] = value
  } else {
    copy[key] = setting(copy[key] as! [String: Any], Array(path.dropFirst()), to: value)
  }
  return copy
}
