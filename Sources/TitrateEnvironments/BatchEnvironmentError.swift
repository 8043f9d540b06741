/// Errors from creating a batched environment or replacing its patients,
/// shared by the warfarin and propofol environments.
public enum BatchEnvironmentError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The batch size is below 1.
  case invalidBatchSize(Int)
  /// `setPatients` received a number of patients other than `batchSize`.
  case patientCountMismatch(expected: Int, received: Int)
  /// `setPatients` was called after the episode's first decision.
  case patientsOutsideEpisodeStart(decisionsTaken: Int)

  public var description: String {
    switch self {
    case .invalidBatchSize(let size):
      return "batch size \(size) is invalid; use at least 1"
    case .patientCountMismatch(let expected, let received):
      return "received \(received) patients for a batch of \(expected); pass one per environment"
    case .patientsOutsideEpisodeStart(let decisions):
      return "patients can only be set at the episode start, but \(decisions) decisions were "
        + "taken; call reset(seed:) first"
    }
  }
}

/// Errors of `WarfarinEnvironment`.
public typealias WarfarinEnvironmentError = BatchEnvironmentError
/// Errors of `PropofolEnvironment`.
public typealias PropofolEnvironmentError = BatchEnvironmentError
