import Foundation

// Step-size stability of the fixed-step RK4 on one UVA/Padova patient.
//
// Classical RK4 is stable on y' = lambda y for real negative lambda only
// while h |lambda| stays below about 2.785 (the real-axis end of its
// stability region), so a patient whose fastest linear rate times the step
// passes that bound gives oscillating, wrong states without any error.
// The check uses 2.78, the bound stated in Docs/environments/glucose.md.

/// The largest h |lambda| accepted for the fixed-step RK4, dimensionless.
let rk4StabilityLimit = 2.78

/// One linear block of the model: the parameters it depends on and its
/// fastest decay rate, 1/min.
private struct UVAPadovaRateBlock: Sendable {
  /// Parameter names of `UVAPadovaParameters` the rate depends on.
  var parameterNames: [String]
  /// The largest |lambda| of the block, 1/min, from the parameter values
  /// keyed by name.
  var fastestRate: @Sendable ([String: Double]) -> Double
}

/// Returns the largest |lambda| of [[-a, p], [q, -c]] with a, c, p, q >= 0.
/// Both eigenvalues are real because p q >= 0.
private func fastestRate2x2(a: Double, c: Double, p: Double, q: Double) -> Double {
  ((a + c) + ((a - c) * (a - c) + 4 * p * q).squareRoot()) / 2
}

/// The linear blocks of the equations in UVAPadovaModel.swift. The glucose
/// block takes the EGP term (slope kp2) and renal excretion (slope ke1) as
/// active, which is their fastest case.
// NOTE: the utilisation term (Vm0 + Vmx X) Gt / (Km0 + Gt) is left out,
// because its slope depends on the states X and Gt. A patient can still be
// unstable through it when insulin action X is very high.
private let uvaPadovaRateBlocks: [UVAPadovaRateBlock] = [
  UVAPadovaRateBlock(parameterNames: ["kmax"]) { $0["kmax"]! },
  UVAPadovaRateBlock(parameterNames: ["kmin"]) { $0["kmin"]! },
  UVAPadovaRateBlock(parameterNames: ["kabs"]) { $0["kabs"]! },
  UVAPadovaRateBlock(parameterNames: ["k1", "k2", "kp2", "ke1"]) {
    fastestRate2x2(
      a: $0["k1"]! + $0["kp2"]! + $0["ke1"]!, c: $0["k2"]!, p: $0["k2"]!, q: $0["k1"]!)
  },
  UVAPadovaRateBlock(parameterNames: ["m1", "m2", "m4", "m30"]) {
    fastestRate2x2(
      a: $0["m2"]! + $0["m4"]!, c: $0["m1"]! + $0["m30"]!, p: $0["m1"]!, q: $0["m2"]!)
  },
  UVAPadovaRateBlock(parameterNames: ["p2u"]) { $0["p2u"]! },
  UVAPadovaRateBlock(parameterNames: ["ki"]) { $0["ki"]! },
  UVAPadovaRateBlock(parameterNames: ["ka1", "kd"]) { $0["ka1"]! + $0["kd"]! },
  UVAPadovaRateBlock(parameterNames: ["ka2"]) { $0["ka2"]! },
  UVAPadovaRateBlock(parameterNames: ["ksc"]) { $0["ksc"]! },
]

extension UVAPadovaParameters {
  /// Rejects rates that make the RK4 step `stepMinutes` unstable: for each
  /// linear block whose h |lambda| exceeds `rk4StabilityLimit`, one issue
  /// on the block's largest parameter with its largest allowed value.
  /// Blocks with a parameter outside its plain range are skipped, because
  /// that parameter is already reported.
  func validateStability(
    path: String, patientName: String, stepMinutes: Double, _ issues: inout IssueCollector
  ) {
    let valuesByName = Dictionary(uniqueKeysWithValues: zip(Self.names, values))
    let maximumRate = rk4StabilityLimit / stepMinutes
    for block in uvaPadovaRateBlocks {
      let blockValues = block.parameterNames.map { valuesByName[$0]! }
      guard blockValues.allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 1e6 }) else { continue }
      let rate = block.fastestRate(valuesByName)
      guard rate > maximumRate else { continue }

      let largestParameter = block.parameterNames.max { valuesByName[$0]! < valuesByName[$1]! }!
      let allowed = largestStableValue(
        of: largestParameter, in: valuesByName, block: block, maximumRate: maximumRate)
      let blockText =
        block.parameterNames.count == 1
        ? "" : " (the block of \(block.parameterNames.joined(separator: ", ")))"
      issues.add(
        jsonPath(path, largestParameter),
        "is \(format(valuesByName[largestParameter]!)) /min for patient \(patientName), which gives a "
          + "fastest rate\(blockText) of \(formatRate(rate)) /min, so h |lambda| = "
          + "\(formatRate(rate * stepMinutes)) exceeds RK4's stability limit "
          + "\(format(rk4StabilityLimit)) at the \(format(stepMinutes))-min step. "
          + "Use at most \(formatRate(allowed, rounding: .down)) /min, or a smaller "
          + "model.integrationStepMinutes.")
    }
  }
}

/// Finds, by bisection, the largest value of `name` (the other values
/// fixed) at which the block's rate stays within `maximumRate`. Every block
/// rate grows with each of its parameters, so bisection applies.
private func largestStableValue(
  of name: String, in valuesByName: [String: Double], block: UVAPadovaRateBlock,
  maximumRate: Double
) -> Double {
  var values = valuesByName
  var low = 0.0
  var high = valuesByName[name]!
  for _ in 0..<60 {
    let middle = (low + high) / 2
    values[name] = middle
    if block.fastestRate(values) <= maximumRate { low = middle } else { high = middle }
  }
  return low
}

/// Formats a value with four significant digits. The largest allowed
/// value is rounded down, so that the printed value is itself allowed.
private func formatRate(
  _ value: Double, rounding rule: FloatingPointRoundingRule = .toNearestOrEven
) -> String {
  guard value.isFinite, value > 0 else { return format(value) }
  let scale = pow(10, 3 - log10(value).rounded(.down))
  return format((value * scale).rounded(rule) / scale)
}
