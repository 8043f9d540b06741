import Foundation
import TitratePKPD

/// Closed-form AUC of the central concentration over a horizon for a one-
/// or two-compartment model with IV input into the central compartment,
/// from given starting amounts plus one zero-order infusion that starts at
/// time 0. Independent of the matrix-exponential stepping, so it serves as
/// the oracle baseline's predictor and as a test oracle.
///
/// Two compartments, with k10 = CL/V1, k12 = Q/V1, k21 = Q/V2 (1/h): the
/// central amount after a unit impulse is
/// h(t) = [(alpha - k21) e^(-alpha t) + (k21 - beta) e^(-beta t)] / (alpha - beta),
/// where alpha, beta = (s +- sqrt(s^2 - 4 k10 k21)) / 2 and s = k10 + k12 + k21.
/// One compartment: h(t) = e^(-k t) with k = CL/V.
public struct IntervalAUCPredictor: Sendable {
  /// Disposition rate constants (1/h), one or two.
  public let rates: [Double]
  /// Impulse-response coefficients matching `rates` (sum to 1).
  public let impulseCoefficients: [Double]
  /// Central volume in L.
  public let centralVolumeLiters: Double
  private let k21: Double

  /// - Precondition: parameters of a one- or two-compartment IV model.
  public init(parameters: CompartmentalParameters) {
    let cl = parameters.clearanceLitersPerHour
    let v1 = parameters.centralVolumeLiters
    centralVolumeLiters = v1
    if let q = parameters.intercompartmentalClearancesLitersPerHour.first,
      let v2 = parameters.peripheralVolumesLiters.first
    {
      precondition(parameters.peripheralCount == 1, "one peripheral compartment at most")
      let k10 = cl / v1
      let k12 = q / v1
      k21 = q / v2
      let sum = k10 + k12 + k21
      let root = (sum * sum - 4 * k10 * k21).squareRoot()
      let alpha = (sum + root) / 2
      // beta = k10 k21 / alpha avoids cancellation when beta << alpha.
      let beta = k10 * k21 / alpha
      rates = [alpha, beta]
      impulseCoefficients = [(alpha - k21) / (alpha - beta), (k21 - beta) / (alpha - beta)]
    } else {
      k21 = 0
      rates = [cl / v1]
      impulseCoefficients = [1]
    }
  }

  /// AUC in mg h/L over [0, `horizonHours`] of the drug already in the body
  /// (central and peripheral amounts in mg) with no further dosing.
  public func carryOverAUC(
    centralMilligrams: Double, peripheralMilligrams: Double, horizonHours: Double
  ) -> Double {
    var amountAUC = 0.0
    if rates.count == 1 {
      amountAUC = centralMilligrams * integratedDecay(rates[0], horizonHours)
    } else {
      let (alpha, beta) = (rates[0], rates[1])
      let alphaTerm =
        (centralMilligrams * (alpha - k21) - peripheralMilligrams * k21) / (alpha - beta)
      let betaTerm =
        (centralMilligrams * (k21 - beta) + peripheralMilligrams * k21) / (alpha - beta)
      amountAUC =
        alphaTerm * integratedDecay(alpha, horizonHours)
        + betaTerm * integratedDecay(beta, horizonHours)
    }
    return amountAUC / centralVolumeLiters
  }

  /// AUC in mg h/L over [0, `horizonHours`] of an infusion of
  /// `doseMilligrams` over `durationHours` starting at 0, into an empty body.
  public func infusionAUC(doseMilligrams: Double, durationHours: Double, horizonHours: Double)
    -> Double
  {
    guard doseMilligrams > 0, horizonHours > 0 else { return 0 }
    let rate = doseMilligrams / durationHours
    let running = min(durationHours, horizonHours)
    var amountAUC = 0.0
    for (lambda, coefficient) in zip(rates, impulseCoefficients) {
      // Integral over s in [0, running] of (1 - e^(-lambda (H - s))) / lambda.
      let tail =
        (Foundation.exp(-lambda * (horizonHours - running))
          - Foundation.exp(-lambda * horizonHours)) / lambda
      amountAUC += coefficient / lambda * (running - tail)
    }
    return rate * amountAUC / centralVolumeLiters
  }

  /// Integral of e^(-lambda t) over [0, horizon].
  private func integratedDecay(_ lambda: Double, _ horizon: Double) -> Double {
    -Foundation.expm1(-lambda * horizon) / lambda
  }
}
