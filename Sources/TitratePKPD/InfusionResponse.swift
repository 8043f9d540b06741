import Foundation

/// Closed-form central concentration of a one- or two-compartment model
/// with intravenous input, written as a sum of exponentials so that the
/// response to any infusion history follows by superposition, without ODE
/// integration or matrix exponentials.
///
/// The central concentration after a 1-mg impulse at time 0 is
/// c(t) = sum_m coefficient_m e^(-rate_m t), mg/L. One compartment:
/// rate = CL/V, coefficient = 1/V. Two compartments, with k10 = CL/V1,
/// k12 = Q/V1, k21 = Q/V2 (1/h): rates alpha and beta =
/// (s +- sqrt(s^2 - 4 k10 k21)) / 2 with s = k10 + k12 + k21, and
/// coefficients (alpha - k21) / ((alpha - beta) V1) and
/// (k21 - beta) / ((alpha - beta) V1).
public struct InfusionResponse: Sendable, Equatable {
  /// Disposition rate constants, 1/h, > 0; the second is 0 and unused for
  /// one compartment.
  public private(set) var rates: (Double, Double)
  /// Impulse-response coefficients, 1/L, matching `rates`.
  public private(set) var coefficients: (Double, Double)
  /// The number of exponentials, 1 or 2.
  public private(set) var exponentialCount: Int

  /// Builds the response of a model without peripheral compartment
  /// (`intercompartmentalClearanceLitersPerHour` nil) or with one.
  /// Values are not checked here (hot path); pass finite values > 0.
  @inline(__always)
  public init(
    clearanceLitersPerHour clearance: Double, centralVolumeLiters volume: Double,
    intercompartmentalClearanceLitersPerHour exchange: Double? = nil,
    peripheralVolumeLiters peripheralVolume: Double = 1
  ) {
    guard let exchange else {
      rates = (clearance / volume, 0)
      coefficients = (1 / volume, 0)
      exponentialCount = 1
      return
    }
    let k10 = clearance / volume
    let k12 = exchange / volume
    let k21 = exchange / peripheralVolume
    // s^2 - 4 k10 k21 rewritten as a sum of non-negative terms, so the
    // root has no cancellation and alpha > beta whenever Q > 0.
    let difference = k10 - k21
    let root = (difference * difference + k12 * (k12 + 2 * k10 + 2 * k21)).squareRoot()
    let alpha = (k10 + k12 + k21 + root) / 2
    // beta = k10 k21 / alpha avoids cancellation when beta << alpha.
    let beta = k10 * k21 / alpha
    let separation = (alpha - beta) * volume
    rates = (alpha, beta)
    coefficients = ((alpha - k21) / separation, (k21 - beta) / separation)
    exponentialCount = 2
  }

  /// Builds the response of one- or two-compartment IV parameters.
  /// - Precondition: no depot, no effect site, at most one peripheral
  ///   compartment.
  public init(parameters: CompartmentalParameters) {
    precondition(
      parameters.peripheralCount <= 1 && parameters.absorptionRatePerHour == nil,
      "InfusionResponse covers IV models with at most one peripheral compartment")
    self.init(
      clearanceLitersPerHour: parameters.clearanceLitersPerHour,
      centralVolumeLiters: parameters.centralVolumeLiters,
      intercompartmentalClearanceLitersPerHour:
        parameters.intercompartmentalClearancesLitersPerHour.first,
      peripheralVolumeLiters: parameters.peripheralVolumesLiters.first ?? 1)
  }

  /// Returns the central concentration, mg/L, `elapsedHours` after the
  /// start of an infusion of `rateMilligramsPerHour` lasting
  /// `durationHours`; 0 for `elapsedHours <= 0`.
  @inline(__always)
  public func concentration(
    rateMilligramsPerHour rate: Double, durationHours: Double, elapsedHours: Double
  ) -> Double {
    guard elapsedHours > 0 else { return 0 }
    let running = min(elapsedHours, durationHours)
    let after = elapsedHours - running
    // Each exponential: rate c / k (1 - e^(-k running)) e^(-k after).
    var total = term(rates.0, coefficients.0, running, after)
    if exponentialCount == 2 { total += term(rates.1, coefficients.1, running, after) }
    return rate * total
  }

  /// Returns the area under the central concentration curve, mg h/L, from
  /// the start of an infusion to `elapsedHours` after it (0 for
  /// `elapsedHours <= 0`).
  @inline(__always)
  public func cumulativeAUC(
    rateMilligramsPerHour rate: Double, durationHours: Double, elapsedHours: Double
  ) -> Double {
    guard elapsedHours > 0 else { return 0 }
    let running = min(elapsedHours, durationHours)
    let after = elapsedHours - running
    var total = areaTerm(rates.0, coefficients.0, running, after)
    if exponentialCount == 2 { total += areaTerm(rates.1, coefficients.1, running, after) }
    return rate * total
  }

  @inline(__always)
  private func term(_ k: Double, _ c: Double, _ running: Double, _ after: Double) -> Double {
    -c / k * expm1(-k * running) * exp(-k * after)
  }

  /// Integral over s in [0, running] of c (1 - e^(-k (running + after - s))) / k.
  @inline(__always)
  private func areaTerm(_ k: Double, _ c: Double, _ running: Double, _ after: Double)
    -> Double
  {
    let decayed = -exp(-k * after) * expm1(-k * running) / k
    return c / k * (running - decayed)
  }

  public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.rates == rhs.rates && lhs.coefficients == rhs.coefficients
      && lhs.exponentialCount == rhs.exponentialCount
  }
}
