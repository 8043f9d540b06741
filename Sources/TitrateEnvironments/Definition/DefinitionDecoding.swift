import Foundation

// Strict decoding support: keyword enums that list their allowed values,
// decoding errors rewritten as path-naming issues, and the unknown-key check.

/// Decodes a string-valued keyword enum, rejecting unknown values with the
/// list of allowed ones.
func decodeKeyword<Keyword: RawRepresentable & CaseIterable>(
  _ type: Keyword.Type, from decoder: any Decoder
) throws -> Keyword where Keyword.RawValue == String {
  let text = try decoder.singleValueContainer().decode(String.self)
  guard let keyword = Keyword(rawValue: text) else {
    throw unknownKeyword(
      text, allowed: Keyword.allCases.map(\.rawValue), path: jsonPath(decoder.codingPath))
  }
  return keyword
}

/// Returns the issue for a string that is not one of the allowed keywords.
func unknownKeyword(_ text: String, allowed: [String], path: String) -> DefinitionIssue {
  var message =
    "is \"\(text)\", which is not allowed. Use one of: "
    + allowed.joined(separator: ", ") + "."
  if let guess = closestName(to: text, among: allowed) {
    message += " Did you mean \"\(guess)\"?"
  }
  return DefinitionIssue(path: path, message: message)
}

/// Rewrites a `DecodingError` as an issue naming the JSON path, the value
/// found in `tree` (the parsed file) and the fix. For a missing key, a
/// present key close to it is suggested as a misspelling unless
/// `isRequiredKey(path, key)` reports it as a key the type needs there.
func issue(
  from error: DecodingError, in tree: Any,
  isRequiredKey: ([any CodingKey], String) -> Bool = { _, _ in false }
) -> DefinitionIssue {
  switch error {
  case .keyNotFound(let key, let context):
    let path = jsonPath(context.codingPath + [key])
    var message = "is missing. Add it (see Docs/environments for its meaning and unit)."
    if let object = jsonValue(in: tree, at: context.codingPath) as? [String: Any] {
      let present = object.keys.sorted()
      let typo = closestNames(to: key.stringValue, among: present).first {
        !isRequiredKey(context.codingPath, $0)
      }
      if let typo {
        message += " The key \"\(typo)\" here may be a misspelling of it."
      }
    }
    return DefinitionIssue(path: path, message: message)
  case .typeMismatch(let type, let context):
    let found = jsonValue(in: tree, at: context.codingPath).map(describeJSONType) ?? "nothing"
    let expected = describeSwiftType(type)
    return DefinitionIssue(
      path: jsonPath(context.codingPath),
      message: "has the wrong type: expected \(expected), found \(found). "
        + "Write it as \(expected).")
  case .valueNotFound(let type, let context):
    let expected = describeSwiftType(type)
    return DefinitionIssue(
      path: jsonPath(context.codingPath),
      message: "is null, but \(expected) is required. Replace null with \(expected).")
  case .dataCorrupted(let context):
    return DefinitionIssue(
      path: jsonPath(context.codingPath),
      message: "is invalid: \(context.debugDescription). Fix the value.")
  @unknown default:
    return DefinitionIssue(path: "(unknown)", message: "\(error)")
  }
}

/// Reads a definition file's bytes.
/// - Throws: `EnvironmentDefinitionError.unreadableFile` with the reason.
func readDefinitionFile(_ url: URL) throws(EnvironmentDefinitionError) -> Data {
  do {
    return try Data(contentsOf: url)
  } catch {
    throw .unreadableFile(path: url.path, reason: error.localizedDescription)
  }
}

/// Decodes a definition of any kind strictly: the JSON must be an object,
/// decoding errors become issues naming the JSON path, and keys the type
/// does not know are rejected. Range validation is the caller's.
func decodeStrictly<Definition: Codable>(
  _ type: Definition.Type, from data: Data
) throws(EnvironmentDefinitionError) -> Definition {
  let tree: Any
  do {
    tree = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
  } catch {
    throw .malformedJSON(reason: jsonSyntaxReason(error, in: data))
  }
  guard tree is [String: Any] else {
    throw .malformedJSON(reason: "the top level is \(describeJSONType(tree)), not an object")
  }
  if let duplicate = firstDuplicateKey(in: data) {
    throw .invalid([
      DefinitionIssue(
        path: duplicate,
        message: "appears twice in one object. JSON readers disagree on which value counts, "
          + "so keep one.")
    ])
  }
  let definition: Definition
  do {
    definition = try JSONDecoder().decode(Definition.self, from: data)
  } catch let issue as DefinitionIssue {
    throw .invalid([issue])
  } catch let error as DecodingError {
    // The decoder reports a number that does not fit an integer field
    // (1.5 or 1e300 where a count belongs) without its path.
    if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
      let found = nonIntegerNumberIssue(Definition.self, in: tree)
    {
      throw .invalid([found])
    }
    var missingKey = ""
    if case .keyNotFound(let key, _) = error { missingKey = key.stringValue }
    let isRequired = { (path: [any CodingKey], key: String) in
      isRequiredKey(key, replacing: missingKey, at: path, of: Definition.self, in: tree)
    }
    throw .invalid([issue(from: error, in: tree, isRequiredKey: isRequired)])
  } catch {
    throw .malformedJSON(reason: "\(error)")
  }
  let unknown = unknownKeyIssues(in: tree, decoded: definition)
  if !unknown.isEmpty { throw .invalid(unknown) }
  return definition
}

/// Returns the JSON path of the first key that appears twice in one
/// object of `data`, which must be valid JSON, or nil when none does.
/// JSONSerialization keeps one of the values without a word.
func firstDuplicateKey(in data: Data) -> String? {
  enum Container {
    case object(keys: Set<String>, current: String?)
    case array(index: Int)
  }
  let bytes = [UInt8](data)
  var stack: [Container] = []
  var expectingKey = false
  var index = 0
  func path(appending key: String? = nil) -> String {
    var text = ""
    for container in stack {
      switch container {
      case .object(_, let current?): text = jsonPath(text, current)
      case .object(_, nil): break
      case .array(let position): text += "[\(position)]"
      }
    }
    return key.map { jsonPath(text, $0) } ?? text
  }
  // Reads the string whose opening quote is at `index`, escapes as written.
  func readString() -> String {
    var content: [UInt8] = []
    index += 1
    while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
      if bytes[index] == UInt8(ascii: "\\") {
        content.append(bytes[index])
        index += 1
      }
      if index < bytes.count { content.append(bytes[index]) }
      index += 1
    }
    index += 1
    return String(decoding: content, as: UTF8.self)
  }
  while index < bytes.count {
    switch bytes[index] {
    case UInt8(ascii: "{"):
      stack.append(.object(keys: [], current: nil))
      expectingKey = true
      index += 1
    case UInt8(ascii: "["):
      stack.append(.array(index: 0))
      index += 1
    case UInt8(ascii: "}"), UInt8(ascii: "]"):
      stack.removeLast()
      index += 1
    case UInt8(ascii: ","):
      if case .array(let position) = stack.last {
        stack[stack.count - 1] = .array(index: position + 1)
      } else {
        expectingKey = true
      }
      index += 1
    case UInt8(ascii: "\""):
      let text = readString()
      if expectingKey, case .object(var keys, _) = stack.last {
        expectingKey = false
        stack[stack.count - 1] = .object(keys: keys, current: nil)
        if keys.contains(text) { return path(appending: text) }
        keys.insert(text)
        stack[stack.count - 1] = .object(keys: keys, current: text)
      }
    default:
      index += 1
    }
  }
  return nil
}

/// Finds the number of `tree` that makes decoding fail without a path: a
/// fraction or an out-of-range value where the type expects an integer.
/// Each candidate in turn is replaced by a whole number in range, and the
/// one whose replacement clears the pathless error is reported.
private func nonIntegerNumberIssue<Definition: Decodable>(
  _ type: Definition.Type, in tree: Any
) -> DefinitionIssue? {
  var candidates: [(path: [Any], value: Double)] = []
  func collect(_ node: Any, _ path: [Any]) {
    if let object = node as? [String: Any] {
      for key in object.keys.sorted() { collect(object[key]!, path + [key]) }
    } else if let array = node as? [Any] {
      for (index, element) in array.enumerated() { collect(element, path + [index]) }
    } else if let number = node as? NSNumber, !isJSONBoolean(number) {
      let value = number.doubleValue
      if value != value.rounded() || abs(value) >= 9.2e18 { candidates.append((path, value)) }
    }
  }
  func replacing(_ node: Any, at path: ArraySlice<Any>, with value: Any) -> Any {
    guard let head = path.first else { return value }
    if let key = head as? String, var object = node as? [String: Any] {
      object[key] = replacing(object[key]!, at: path.dropFirst(), with: value)
      return object
    }
    var array = node as! [Any]
    let index = head as! Int
    array[index] = replacing(array[index], at: path.dropFirst(), with: value)
    return array
  }
  collect(tree, [])
  for candidate in candidates {
    let changed = replacing(tree, at: candidate.path[...], with: 1)
    guard let data = try? JSONSerialization.data(withJSONObject: changed) else { continue }
    do {
      _ = try JSONDecoder().decode(Definition.self, from: data)
    } catch let error as DecodingError {
      if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { continue }
    } catch {}
    let path = candidate.path.reduce("") { path, component in
      if let index = component as? Int { return path + "[\(index)]" }
      return jsonPath(path, component as! String)
    }
    return DefinitionIssue(
      path: path,
      message: "is \(candidate.value), but must be a whole number. Write it without a "
        + "fractional part.")
  }
  return nil
}

/// Reports whether `key`, present in the object at `path` of `tree`, is a
/// key the type requires there. The test moves the value of `key` to `missingKey`
/// and decodes again: a required `key` is then reported missing at the same
/// place. An optional key passes as not required.
private func isRequiredKey<Definition: Decodable>(
  _ key: String, replacing missingKey: String, at path: [any CodingKey],
  of type: Definition.Type, in tree: Any
) -> Bool {
  let renamed = changingObject(at: path[...], in: tree) { object in
    object[missingKey] = object[key]
    object[key] = nil
  }
  guard let renamed, let data = try? JSONSerialization.data(withJSONObject: renamed) else {
    return false
  }
  do {
    _ = try JSONDecoder().decode(Definition.self, from: data)
  } catch DecodingError.keyNotFound(let missing, let context) {
    return missing.stringValue == key && jsonPath(context.codingPath) == jsonPath(path)
  } catch {}
  return false
}

/// Returns a copy of `tree` with `change` applied to the object at `path`,
/// or nil when there is no object there.
private func changingObject(
  at path: ArraySlice<any CodingKey>, in tree: Any, _ change: (inout [String: Any]) -> Void
) -> Any? {
  guard let first = path.first else {
    guard var object = tree as? [String: Any] else { return nil }
    change(&object)
    return object
  }
  if var object = tree as? [String: Any], let child = object[first.stringValue] {
    guard let changed = changingObject(at: path.dropFirst(), in: child, change) else {
      return nil
    }
    object[first.stringValue] = changed
    return object
  }
  if var array = tree as? [Any], let index = first.intValue, array.indices.contains(index) {
    guard let changed = changingObject(at: path.dropFirst(), in: array[index], change) else {
      return nil
    }
    array[index] = changed
    return array
  }
  return nil
}

/// Describes a JSON syntax error with its line and column when the parser
/// reports the character offset ("Invalid value around character 8.").
func jsonSyntaxReason(_ error: any Error, in data: Data) -> String {
  let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
  guard let detail else { return error.localizedDescription }
  let text = detail.hasSuffix(".") ? String(detail.dropLast()) : detail
  guard let range = text.range(of: "character "),
    let offset = Int(text[range.upperBound...].prefix { $0.isNumber }), offset <= data.count
  else { return text }
  let before = data.prefix(offset)
  let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
  let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
  return "\(text) (line \(line), column \(column))"
}

/// Finds keys of the file that the decoded definition does not contain,
/// by comparing the parsed file with the definition encoded again. Every
/// type writes all its keys (optionals as null), so a key missing from the
/// re-encoded form is unknown.
func unknownKeyIssues<Definition: Encodable>(in tree: Any, decoded definition: Definition)
  -> [DefinitionIssue]
{
  guard let data = try? JSONEncoder().encode(definition),
    let encoded = try? JSONSerialization.jsonObject(with: data)
  else { return [] }
  var issues: [DefinitionIssue] = []
  collectUnknownKeys(original: tree, encoded: encoded, path: "", into: &issues)
  return issues
}

private func collectUnknownKeys(
  original: Any, encoded: Any, path: String, into issues: inout [DefinitionIssue]
) {
  if let object = original as? [String: Any], let known = encoded as? [String: Any] {
    for key in object.keys.sorted() {
      let keyPath = jsonPath(path, key)
      if let knownValue = known[key] {
        collectUnknownKeys(
          original: object[key]!, encoded: knownValue, path: keyPath, into: &issues)
      } else if object[key] is NSNull {
        // Optional keys that are not set do not appear in the encoded
        // form, so a null here is either one of them or an unknown key.
        issues.append(
          DefinitionIssue(
            path: keyPath,
            message:
              "is null. Leave an optional key out instead of setting it to null, and check "
              + "the name against the keys set here: " + known.keys.sorted().joined(separator: ", ")
              + "."))
      } else {
        let allowed = known.keys.sorted()
        var message =
          "is not a known key. Remove it, or use one of: "
          + allowed.joined(separator: ", ") + "."
        if let guess = closestName(to: key, among: allowed) {
          message += " Did you mean \"\(guess)\"?"
        }
        issues.append(DefinitionIssue(path: keyPath, message: message))
      }
    }
  } else if let array = original as? [Any], let known = encoded as? [Any],
    array.count == known.count
  {
    for index in array.indices {
      collectUnknownKeys(
        original: array[index], encoded: known[index], path: "\(path)[\(index)]",
        into: &issues)
    }
  }
}

/// The value at a coding path in a parsed JSON tree.
private func jsonValue(in tree: Any, at codingPath: [any CodingKey]) -> Any? {
  var current: Any = tree
  for key in codingPath {
    if let object = current as? [String: Any], let next = object[key.stringValue] {
      current = next
    } else if let array = current as? [Any], let index = key.intValue,
      array.indices.contains(index)
    {
      current = array[index]
    } else {
      return nil
    }
  }
  return current
}

/// A short description of a parsed JSON value's type, with the value when
/// it is a scalar.
func describeJSONType(_ value: Any) -> String {
  switch value {
  case is NSNull: return "null"
  case let text as String: return "a string (\"\(text)\")"
  case is [Any]: return "an array"
  case is [String: Any]: return "an object"
  case let number as NSNumber:
    if isJSONBoolean(number) { return "true or false" }
    return "a number (\(number))"
  default: return "\(type(of: value))"
  }
}

/// Whether an NSNumber from JSONSerialization is a JSON `true`/`false`
/// (swift-corelibs-foundation boxes those in a Boolean subclass).
private func isJSONBoolean(_ number: NSNumber) -> Bool {
  String(describing: type(of: number)).contains("Boolean")
}

private func describeSwiftType(_ type: Any.Type) -> String {
  switch type {
  case is Double.Type, is Float.Type: return "a number"
  case is Int.Type: return "a whole number"
  case is String.Type: return "a string"
  case is Bool.Type: return "true or false"
  default:
    let name = String(describing: type)
    if name.hasPrefix("Array") || name.hasPrefix("[") { return "an array" }
    return "an object"
  }
}

/// The candidate within edit distance 2 of `name` (case-insensitive), if any.
func closestName(to name: String, among candidates: [String]) -> String? {
  closestNames(to: name, among: candidates).first
}

/// Returns the candidates within edit distance 2 of `name`
/// (case-insensitive), closest first. Ties keep the order of `candidates`.
func closestNames(to name: String, among candidates: [String]) -> [String] {
  let target = Array(name.lowercased())
  var scored: [(candidate: String, distance: Int)] = []
  for candidate in candidates where candidate != name {
    let distance = editDistance(target, Array(candidate.lowercased()))
    if distance <= 2 { scored.append((candidate, distance)) }
  }
  // A stable sort keeps the first of equally close candidates first.
  return scored.enumerated()
    .sorted { ($0.element.distance, $0.offset) < ($1.element.distance, $1.offset) }
    .map(\.element.candidate)
}

private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
  if a.isEmpty { return b.count }
  var previous = Array(0...b.count)
  for i in 1...a.count {
    var current = [i] + [Int](repeating: 0, count: b.count)
    for j in stride(from: 1, through: b.count, by: 1) {
      let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
      current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
    }
    previous = current
  }
  return previous[b.count]
}
