/// The decisions an environment accepts.
public enum ActionSpace: Sendable, Equatable, Codable {
  /// One of `count` levels per decision, passed as the level index
  /// (0, 1, ..., count - 1) stored in a `Float`.
  case discrete(count: Int)
  /// One real value per decision in `[low, high]`. Values outside are
  /// accepted and handled by the environment's actuator, which counts them.
  case continuous(low: Float, high: Float)
}

/// What one batched `step` returns: one entry per environment in the batch.
///
/// Auto-reset convention (the "same step" convention): when environment `i`
/// ends an episode in this step, `terminated[i]` or `truncated[i]` is true,
/// row `i` of `finalObservations` holds the last observation of the ended
/// episode, and row `i` of `observations` already holds the first
/// observation of the next episode. Rows of `finalObservations` for
/// environments that did not end are unspecified.
public struct EnvironmentStep: Sendable {
  /// Row-major `batchSize x observationSize`.
  public var observations: [Float]
  public var rewards: [Float]
  /// Safety cost of the transition (0 when no threshold was crossed).
  public var costs: [Float]
  /// The episode reached a terminal state of the task: no bootstrapping.
  public var terminated: [Bool]
  /// The episode was cut off by a time limit that is not part of the task:
  /// learners bootstrap from the value of `finalObservations`.
  public var truncated: [Bool]
  /// Row-major `batchSize x observationSize`; see the type's documentation.
  public var finalObservations: [Float]

  /// Creates a step with empty arrays, for `VectorizedEnvironment.step(
  /// actions:into:)` to fill.
  public init() {
    self.init(
      observations: [], rewards: [], costs: [], terminated: [], truncated: [],
      finalObservations: [])
  }

  public init(
    observations: [Float], rewards: [Float], costs: [Float], terminated: [Bool],
    truncated: [Bool], finalObservations: [Float]
  ) {
    self.observations = observations
    self.rewards = rewards
    self.costs = costs
    self.terminated = terminated
    self.truncated = truncated
    self.finalObservations = finalObservations
  }
}

/// Clinical outcomes of the episodes that ended since the last drain: sums
/// of per-episode values keyed by metric name, and the episode count.
public struct EpisodeOutcomeTally: Sendable, Equatable {
  public var episodes: Int = 0
  public var sums: [String: Double] = [:]

  public init() {}

  /// Returns the tally and leaves an empty one in its place.
  public mutating func drain() -> EpisodeOutcomeTally {
    defer { self = EpisodeOutcomeTally() }
    return self
  }

  public mutating func add(_ name: String, _ value: Double) {
    sums[name, default: 0] += value
  }

  public mutating func merge(_ other: EpisodeOutcomeTally) {
    episodes += other.episodes
    for (name, value) in other.sums { sums[name, default: 0] += value }
  }

  /// Mean of a metric per episode, or nil when no episode ended.
  public func mean(_ name: String) -> Double? {
    guard episodes > 0, let sum = sums[name] else { return nil }
    return sum / Double(episodes)
  }
}

/// An environment that draws some training patients from wide edge
/// ranges, and can leave them out so that a measurement covers the site's
/// own population alone.
public protocol EdgePatientDrawing: AnyObject {
  /// Whether resets draw edge patients at the configured fraction (true,
  /// the default) or every patient from the site's population (false).
  var drawsEdgePatients: Bool { get set }
}

/// A batch of independent environments stepped together (structure of
/// arrays), as used by the learners and the evaluation core.
public protocol VectorizedEnvironment: AnyObject {
  var batchSize: Int { get }
  var observationSize: Int { get }
  var actionSpace: ActionSpace { get }

  /// Starts a new episode in every environment and returns the first
  /// observations, row-major `batchSize x observationSize`. The same seed
  /// gives the same patients and the same noise.
  func reset(seed: UInt64) -> [Float]

  /// Applies one action per environment (`actions.count == batchSize`).
  func step(actions: [Float]) -> EnvironmentStep

  /// Applies one action per environment like `step(actions:)` and stores
  /// what it returns in `result`, except that `finalObservations` may keep
  /// its previous contents, even another count, in a step in which no
  /// episode ends (its rows are unspecified then). An environment may write
  /// into the arrays of `result` instead of allocating new ones, which
  /// saves the allocations when the caller keeps no other reference to
  /// them. The default stores the result of `step(actions:)`.
  func step(actions: [Float], into result: inout EnvironmentStep)

  /// Returns and clears the outcome tally of episodes ended since the last
  /// call.
  func drainEpisodeOutcomes() -> EpisodeOutcomeTally
}

extension VectorizedEnvironment {
  public func step(actions: [Float], into result: inout EnvironmentStep) {
    result = step(actions: actions)
  }
}

extension EnvironmentStep {
  /// Builds the result of one step of a batch whose episodes all last the
  /// same number of decisions and so end together.
  ///
  /// - Parameters:
  ///   - episodeEnded: true when this step ended every episode.
  ///   - automaticallyResets: start the next episodes in this step (the
  ///     protocol's same-step convention) or return the final observations
  ///     as `observations`.
  ///   - observe: returns the current observation rows.
  ///   - recordEnded: records the ended episodes' outcomes (called once,
  ///     after the final observations are taken).
  ///   - restart: starts new episodes for every environment.
  static func fixedLengthEpisodes(
    batchSize: Int, rewards: [Float], costs: [Float], episodeEnded: Bool,
    automaticallyResets: Bool, observe: () -> [Float], recordEnded: () -> Void,
    restart: () -> Void
  ) -> EnvironmentStep {
    let notTruncated = [Bool](repeating: false, count: batchSize)
    guard episodeEnded else {
      // No row of `finalObservations` is meaningful, so the observation
      // array is shared instead of allocating a second one.
      let next = observe()
      return EnvironmentStep(
        observations: next, rewards: rewards, costs: costs,
        terminated: [Bool](repeating: false, count: batchSize), truncated: notTruncated,
        finalObservations: next)
    }
    let finalObservations = observe()
    recordEnded()
    let terminated = [Bool](repeating: true, count: batchSize)
    guard automaticallyResets else {
      return EnvironmentStep(
        observations: finalObservations, rewards: rewards, costs: costs, terminated: terminated,
        truncated: notTruncated, finalObservations: finalObservations)
    }
    restart()
    return EnvironmentStep(
      observations: observe(), rewards: rewards, costs: costs, terminated: terminated,
      truncated: notTruncated, finalObservations: finalObservations)
  }
}
