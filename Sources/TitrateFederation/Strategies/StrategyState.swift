/// State that a server optimiser carries from round to round: the moment
/// vectors and the number of server steps taken. A plain value of integers
/// and `Double` arrays, so that a checkpoint can store it and a resumed run
/// continues exactly.
///
/// Strategies without memory (FedAvg, median, trimmed mean, Krum, Bulyan,
/// the FedPG-BR filter) only count rounds in it.
public struct StrategyState: Codable, Sendable, Equatable {
  /// Server steps taken so far; the bias correction of FedAdam uses it.
  public var roundsApplied: Int
  /// FedAvgM velocity or FedOpt first moment m, one entry per parameter.
  /// Empty until the first round of a strategy that uses it.
  public var firstMoment: [Double]
  /// FedOpt second moment v, one entry per parameter. Empty until the first
  /// round of a strategy that uses it.
  public var secondMoment: [Double]

  /// Creates the state before the first round.
  public init() {
    roundsApplied = 0
    firstMoment = []
    secondMoment = []
  }

  /// Restores a stored state.
  public init(roundsApplied: Int, firstMoment: [Double], secondMoment: [Double]) {
    self.roundsApplied = roundsApplied
    self.firstMoment = firstMoment
    self.secondMoment = secondMoment
  }

  /// Sizes an empty moment to `count` zeros, and rejects a stored moment of
  /// another length.
  static func prepare(_ moment: inout [Double], count: Int) throws(StrategyRoundError) {
    if moment.isEmpty {
      moment = [Double](repeating: 0, count: count)
    } else if moment.count != count {
      throw .stateLengthMismatch(stored: moment.count, expected: count)
    }
  }
}
