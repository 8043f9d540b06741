/// The optional `bayesianEstimate` section: observations gain MAP
/// estimates of each patient's PK parameters, fitted to the measured
/// levels with one published population model as the prior at every site
/// (as Bayesian dosing software does). A site whose true model differs
/// therefore works with a misspecified prior.
public struct BayesianEstimateDefinition: Codable, Sendable, Equatable {
  /// Key of the prior model in the definition's `models` (one or two
  /// compartments).
  public var priorModel: String

  /// Creates a section naming the prior model.
  public init(priorModel: String) {
    self.priorModel = priorModel
  }
}

extension EnvironmentDefinition {
  /// Checks that the prior model exists.
  func validateBayesianEstimate(_ issues: inout IssueCollector) {
    guard let section = bayesianEstimate else { return }
    guard models[section.priorModel] == nil else { return }
    let known = models.keys.sorted()
    var message =
      "is \"\(section.priorModel)\", which is not a model of this file. Use one of: "
      + known.joined(separator: ", ") + "."
    if let guess = closestName(to: section.priorModel, among: known) {
      message += " Did you mean \"\(guess)\"?"
    }
    issues.add("bayesianEstimate.priorModel", message)
  }
}
