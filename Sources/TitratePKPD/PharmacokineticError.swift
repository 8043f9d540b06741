/// A rejected input to the pharmacokinetic core: the message names the
/// parameter, the value received, the allowed range and the fix.
public struct PharmacokineticError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The parameter or field at fault, as spelled in the public API
  /// (for example `clearanceLitersPerHour` or `parameters[3]`).
  public var parameter: String
  /// The rejected value, printed as received.
  public var value: String
  /// The allowed range or rule, and the fix.
  public var requirement: String

  /// Creates an error for `parameter` whose `value` fails `requirement`.
  public init(parameter: String, value: String, requirement: String) {
    self.parameter = parameter
    self.value = value
    self.requirement = requirement
  }

  public var description: String {
    "invalid \(parameter): \(value); \(requirement)"
  }
}

/// Throws unless `value` is finite and greater than zero.
func requirePositiveFinite(_ value: Double, _ name: String) throws(PharmacokineticError) {
  guard value.isFinite, value > 0 else {
    throw PharmacokineticError(
      parameter: name, value: "\(value)",
      requirement: "expected a finite value greater than 0")
  }
}
