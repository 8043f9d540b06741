import Foundation
import TitrateRandom

/// CGM sensor error for a batch of patients (Breton M, Kovatchev B, J
/// Diabetes Sci Technol 2008;2:853-862, as simglucose 0.2.11 uses it).
///
/// At knots every `noiseKnotMinutes` a standard normal process runs
/// e_0 ~ N(0, 1), e_k = PACF (e_(k-1) + N(0, 1)), and the error at a knot is
/// the Johnson SU transform xi + lambda sinh((e_k - gamma) / delta), mg/dL.
/// Between knots the error is a Catmull-Rom cubic through the four
/// nearest knots. simglucose fits a not-a-knot cubic spline through blocks
/// of 11 knots instead; both pass through the knots and are smooth, and
/// the error distribution at the knots is the same.
struct CGMNoise {
  let sensor: GlucoseSensorDefinition
  let patientCount: Int
  /// Knot errors, `knot * patientCount + p`, mg/dL.
  private(set) var knots: [Double] = []
  private(set) var knotCount = 0

  init(sensor: GlucoseSensorDefinition, patientCount: Int) {
    self.sensor = sensor
    self.patientCount = patientCount
  }

  /// Draws the knots for an episode of `minutes` for every patient.
  mutating func start(minutes: Int, using generator: inout Xoshiro256) {
    let n = patientCount
    // One knot before the first interval's end and two after the last,
    // because the cubic uses the knots around each interval.
    knotCount = minutes / sensor.noiseKnotMinutes + 3
    knots = [Double](repeating: 0, count: knotCount * n)
    var process = [Double](repeating: 0, count: n)
    for knot in 0..<knotCount {
      for p in 0..<n {
        let draw = generator.nextStandardNormal()
        process[p] = knot == 0 ? draw : sensor.autocorrelation * (process[p] + draw)
        knots[knot * n + p] =
          sensor.johnsonXi + sensor.johnsonLambda
          * sinh((process[p] - sensor.johnsonGamma) / sensor.johnsonDelta)
      }
    }
  }

  /// Returns the error of patient `p` at `minute` after the episode start,
  /// mg/dL.
  func error(patient p: Int, minute: Int) -> Double {
    let spacing = sensor.noiseKnotMinutes
    let interval = min(minute / spacing, knotCount - 2)
    let s = Double(minute - interval * spacing) / Double(spacing)
    let n = patientCount
    let y0 = knots[max(interval - 1, 0) * n + p]
    let y1 = knots[interval * n + p]
    let y2 = knots[(interval + 1) * n + p]
    let y3 = knots[min(interval + 2, knotCount - 1) * n + p]
    // Catmull-Rom: Hermite cubic with tangents (y2 - y0) / 2 and (y3 - y1) / 2.
    let a = -0.5 * y0 + 1.5 * y1 - 1.5 * y2 + 0.5 * y3
    let b = y0 - 2.5 * y1 + 2 * y2 - 0.5 * y3
    let c = -0.5 * y0 + 0.5 * y2
    return ((a * s + b) * s + c) * s + y1
  }

  /// Returns the CGM reading for a true glucose: glucose plus the error
  /// (when noise is enabled), clipped to the sensor's reporting range.
  func reading(glucose: Double, patient p: Int, minute: Int) -> Double {
    let noisy = sensor.noiseEnabled ? glucose + error(patient: p, minute: minute) : glucose
    return min(
      max(noisy, sensor.minimumMilligramsPerDeciliter), sensor.maximumMilligramsPerDeciliter)
  }
}
