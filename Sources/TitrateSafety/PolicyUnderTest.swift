import TitrateEnvironments
import TitrateFederation
import TitratePolicy

/// Maps row-major raw observations (`rowCount x observationSize`, the
/// layout of `VancomycinObservation`) to one action per row, in the
/// environment's action units (dose level index or mg).
public typealias ObservationPolicy = (_ observations: [Float], _ rowCount: Int) -> [Float]

/// A site the verifier builds cohorts for: the policy's site name (which
/// selects per-site observation statistics) and its population.
public struct VerifiedSite: Sendable, Equatable, Codable {
  /// Site name, as in the training configuration.
  public var name: String
  /// Key of the definition's `populations`.
  public var population: String

  public init(name: String, population: String) {
    self.name = name
    self.population = population
  }
}

/// An observation row that contains NaN or an infinity, which a screened
/// policy rejects instead of dosing.
public struct NonFiniteObservationError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Row of the batch (0-based).
  public var row: Int
  /// Entry of the row (0-based).
  public var entry: Int
  /// Name of the entry, empty when the layout has no name for it.
  public var entryName: String
  /// The offending value.
  public var value: Float

  public var description: String {
    let name = entryName.isEmpty ? "" : " (\(entryName))"
    return "observation row \(row), entry \(entry)\(name) is \(value); every entry must be a "
      + "finite number. The row is rejected and no dose is given: fix the source of the value "
      + "or enter it as missing"
  }
}

/// A policy as the safety checks see it: a name, the action units it
/// produces, and a way to build its observation-to-action rule at a site.
///
/// Every call goes through the non-finite screen (`screenedActions`): a
/// row with NaN or an infinity in any entry is rejected and gets a NaN
/// action, which the environment's `DoseActuator` turns into 0 mg and
/// counts as `interventionsNonFinite`. `actions(observations:rowCount:
/// site:)` raises a `NonFiniteObservationError` for the first such row
/// instead, for callers that want to stop.
public struct PolicyUnderTest: Sendable {
  /// Name used in reports (`learned`, `guideline`, `constant 3000 mg`).
  public let name: String
  /// The units of the actions the policy returns.
  public let actionMode: DoseActionMode
  private let makeRule: @Sendable (_ site: VerifiedSite) throws -> ObservationPolicy

  /// Creates a policy from a factory of per-site rules.
  /// - Parameters:
  ///   - name: name used in reports.
  ///   - actionMode: level indices (`.discreteLevels`) or mg.
  ///   - makeRule: returns the rule used at a site; called once per cohort,
  ///     so the rule may keep scratch state.
  public init(
    name: String, actionMode: DoseActionMode,
    makeRule: @escaping @Sendable (_ site: VerifiedSite) throws -> ObservationPolicy
  ) {
    self.name = name
    self.actionMode = actionMode
    self.makeRule = makeRule
  }

  /// Returns the rule the policy uses at `site`, wrapped in the non-finite
  /// screen.
  public func screenedRule(at site: VerifiedSite) throws -> ScreenedRule {
    ScreenedRule(rule: try makeRule(site))
  }

  /// Returns one action per row, or raises for the first row with a
  /// non-finite entry.
  /// - Throws: `NonFiniteObservationError` naming the row, entry and value.
  public func actions(
    observations: [Float], rowCount: Int, observationNames: [String] = [], site: VerifiedSite
  ) throws -> [Float] {
    let rule = try screenedRule(at: site)
    return try rule.actions(
      observations: observations, rowCount: rowCount, observationNames: observationNames)
  }
}

/// A rule behind the non-finite screen.
public struct ScreenedRule {
  /// The unscreened rule, for measuring what it would do on rejected rows.
  public let rule: ObservationPolicy

  /// Returns the actions for the rows without non-finite entries and NaN
  /// for the others, with the indices of the rejected rows. Finite rows
  /// reach the rule in their original order, and rejected rows never
  /// reach it.
  public func screenedActions(observations: [Float], rowCount: Int)
    -> (actions: [Float], rejectedRows: [Int])
  {
    let width = rowWidth(observations, rowCount)
    var rejected: [Int] = []
    var finiteRows: [Float] = []
    finiteRows.reserveCapacity(observations.count)
    for row in 0..<rowCount {
      let slice = observations[(row * width)..<((row + 1) * width)]
      if slice.allSatisfy(\.isFinite) {
        finiteRows.append(contentsOf: slice)
      } else {
        rejected.append(row)
      }
    }
    if rejected.isEmpty { return (rule(observations, rowCount), []) }
    let finiteActions =
      rowCount == rejected.count ? [] : rule(finiteRows, rowCount - rejected.count)
    var actions = [Float](repeating: .nan, count: rowCount)
    var next = 0
    var rejectedIndex = 0
    for row in 0..<rowCount {
      if rejectedIndex < rejected.count && rejected[rejectedIndex] == row {
        rejectedIndex += 1
      } else {
        actions[row] = finiteActions[next]
        next += 1
      }
    }
    return (actions, rejected)
  }

  /// Returns one action per row.
  /// - Throws: `NonFiniteObservationError` for the first row with NaN or
  ///   an infinity, before the rule runs on any row.
  public func actions(observations: [Float], rowCount: Int, observationNames: [String] = [])
    throws(NonFiniteObservationError) -> [Float]
  {
    let width = rowWidth(observations, rowCount)
    if let index = observations.firstIndex(where: { !$0.isFinite }) {
      let entry = index % width
      throw NonFiniteObservationError(
        row: index / width, entry: entry,
        entryName: entry < observationNames.count ? observationNames[entry] : "",
        value: observations[index])
    }
    return rule(observations, rowCount)
  }

  private func rowWidth(_ observations: [Float], _ rowCount: Int) -> Int {
    precondition(
      rowCount > 0 && observations.count % rowCount == 0,
      "\(observations.count) values do not split into \(rowCount) rows")
    return observations.count / rowCount
  }
}

extension PolicyUnderTest {
  /// Wraps the learned policy of a checkpoint: the global network acting
  /// deterministically (most likely dose level, or the mapped mean), with
  /// the observation statistics of each site
  /// (`TrainedPolicy.observationNormalizer(site:)`).
  ///
  /// For a cohort whose site is not one of the checkpoint's sites, the
  /// statistics of the first site are used.
  public static func trained(_ policy: TrainedPolicy, name: String = "learned")
    -> PolicyUnderTest
  {
    let network = policy.network
    let siteNames = policy.configuration.sites.map(\.name)
    let normalizers = siteNames.map { site in Result { try policy.observationNormalizer(site: site) } }
    let actionMode: DoseActionMode =
      switch network.actionSpace {
      case .discrete: .discreteLevels
      case .continuous: .continuousMilligrams
      }
    return PolicyUnderTest(name: name, actionMode: actionMode) { site in
      let index = siteNames.firstIndex(of: site.name) ?? 0
      let normalizer = try normalizers[index].get()
      let box = EvaluatorBox(PolicyEvaluator(network: network, normalizer: normalizer))
      return { observations, rowCount in
        box.evaluator.actions(observations: observations, count: rowCount)
      }
    }
  }

  /// Returns weight-based guideline dosing computed from the observation, the
  /// same rule as the environment's `guideline` baseline: the loading dose
  /// (mg/kg, capped) when `hoursSinceStart` is 0, the maintenance dose
  /// otherwise, rounded to the actuator's increment.
  public static func guideline(
    definition: EnvironmentDefinition, actionMode: DoseActionMode = .discreteLevels
  ) -> PolicyUnderTest {
    let guideline = definition.baselines.guideline
    let increment = definition.actuatorLimits.doseIncrementMilligrams
    let levelMilligrams = definition.dosing.doseLevelStepMilligrams
    let width = VancomycinObservation.count(for: definition)
    return PolicyUnderTest(name: "guideline", actionMode: actionMode) { _ in
      { observations, rowCount in
        (0..<rowCount).map { row in
          let weight = Double(observations[row * width + VancomycinObservation.weightKilograms])
          let hours = observations[row * width + VancomycinObservation.hoursSinceStart]
          var dose =
            hours == 0
            ? min(
              guideline.maximumLoadingDoseMilligrams,
              guideline.loadingMilligramsPerKilogram * weight)
            : guideline.maintenanceMilligramsPerKilogram * weight
          dose = (dose / increment).rounded(.toNearestOrAwayFromZero) * increment
          return actionMode == .discreteLevels
            ? Float((dose / levelMilligrams).rounded()) : Float(dose)
        }
      }
    }
  }

  /// Returns a policy that requests the same dose at every decision,
  /// whatever the patient (a deliberately unsafe policy for tests and
  /// demonstrations).
  /// - Parameter doseMilligrams: requested dose in mg; in level mode it is
  ///   requested as the nearest level of `levelMilligrams`.
  public static func constant(
    doseMilligrams: Double, actionMode: DoseActionMode = .continuousMilligrams,
    levelMilligrams: Double = 250
  ) -> PolicyUnderTest {
    let action =
      actionMode == .discreteLevels
      ? Float((doseMilligrams / levelMilligrams).rounded()) : Float(doseMilligrams)
    return PolicyUnderTest(
      name: "constant \(formatted(doseMilligrams)) mg", actionMode: actionMode
    ) { _ in
      { _, rowCount in [Float](repeating: action, count: rowCount) }
    }
  }
}

/// Holds a `PolicyEvaluator` (a mutating value with scratch buffers) for a
/// rule closure; one box per cohort, used from one thread.
private final class EvaluatorBox {
  var evaluator: PolicyEvaluator
  init(_ evaluator: PolicyEvaluator) { self.evaluator = evaluator }
}

/// Formats a number without a trailing ".0" for whole values.
func formatted(_ value: Double) -> String {
  value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}
