import Foundation
import TitratePKPD

@testable import TitrateEnvironments

/// Goti 2018 typical parameters for a 70-kg patient with CrCl 120 mL/min.
let gotiTypical = CompartmentalParameters(
  clearanceLitersPerHour: 4.5, centralVolumeLiters: 58.4,
  intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4])

/// Returns a patient with the given weight and parameters (other covariates
/// fixed).
func makePatient(
  weightKilograms: Double = 70, parameters: CompartmentalParameters = gotiTypical
) -> VirtualPatient {
  VirtualPatient(
    ageYears: 50, weightKilograms: weightKilograms, isFemale: false,
    serumCreatinineMilligramsPerDeciliter: 1, onHaemodialysis: false, parameters: parameters)
}

/// One zero-order infusion.
struct Infusion {
  var startHours: Double
  var doseMilligrams: Double
  var durationHours: Double
}

/// AUC of the central concentration over [from, to] (mg h/L) for a two-
/// compartment model, by superposition of closed-form bi-exponential
/// infusion responses. Written independently of the environment and the PK
/// core.
func closedFormAUC(
  _ parameters: CompartmentalParameters, infusions: [Infusion], from: Double, to: Double
) -> Double {
  let v1 = parameters.centralVolumeLiters
  let k10 = parameters.clearanceLitersPerHour / v1
  let k12 = parameters.intercompartmentalClearancesLitersPerHour[0] / v1
  let k21 = parameters.intercompartmentalClearancesLitersPerHour[0]
    / parameters.peripheralVolumesLiters[0]
  let sum = k10 + k12 + k21
  let discriminant = (sum * sum - 4 * k10 * k21).squareRoot()
  let alpha = (sum + discriminant) / 2
  let beta = (sum - discriminant) / 2
  // Central concentration after a unit impulse: A e^-alpha t + B e^-beta t.
  let terms = [
    (alpha, (alpha - k21) / (alpha - beta) / v1), (beta, (k21 - beta) / (alpha - beta) / v1),
  ]
  // Cumulative AUC from the infusion start to t.
  func cumulative(_ infusion: Infusion, _ t: Double) -> Double {
    guard t > 0 else { return 0 }
    let rate = infusion.doseMilligrams / infusion.durationHours
    let running = min(t, infusion.durationHours)
    var total = 0.0
    for (lambda, coefficient) in terms {
      // Integral over s in [0, running] of coefficient (1 - e^-lambda (t - s)) / lambda.
      let decayed = (exp(-lambda * (t - running)) - exp(-lambda * t)) / lambda
      total += coefficient / lambda * (running - decayed)
    }
    return rate * total
  }
  return infusions.reduce(0) { total, infusion in
    total + cumulative(infusion, to - infusion.startHours)
      - cumulative(infusion, from - infusion.startHours)
  }
}

/// The shipped definition with a longer episode (equal day weights).
func definitionWithEpisode(days: Int) -> EnvironmentDefinition {
  var tree = setting(shippedJSONTree(), ["dosing", "episodeHours"], to: 24 * days)
  tree = setting(
    tree, ["reward", "dayWeights"], to: [Double](repeating: 1 / Double(days), count: days))
  let data = try! JSONSerialization.data(withJSONObject: tree)
  return try! EnvironmentDefinition.decode(from: data)
}

/// Runs one whole episode with a constant action and returns the rewards
/// and costs of each step.
func runEpisode(_ environment: VancomycinEnvironment, action: Float)
  -> (rewards: [[Float]], costs: [[Float]], steps: [EnvironmentStep])
{
  var rewards: [[Float]] = []
  var costs: [[Float]] = []
  var steps: [EnvironmentStep] = []
  for _ in 0..<environment.definition.dosing.decisionsPerEpisode {
    let step = environment.step(
      actions: [Float](repeating: action, count: environment.batchSize))
    rewards.append(step.rewards)
    costs.append(step.costs)
    steps.append(step)
  }
  return (rewards, costs, steps)
}
