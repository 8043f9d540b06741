import Foundation
import TitratePKPD

/// The 13 states of the UVA/Padova model per patient, in simglucose's
/// order (`x0_1` ... `x0_13` of its table).
public enum UVAPadovaState: Int, CaseIterable, Sendable {
  /// Qsto1: solid glucose in the stomach, mg.
  case stomachSolid
  /// Qsto2: liquid glucose in the stomach, mg.
  case stomachLiquid
  /// Qgut: glucose in the intestine, mg.
  case gut
  /// Gp: glucose mass in plasma and rapidly equilibrating tissues, mg/kg.
  case plasmaGlucose
  /// Gt: glucose mass in slowly equilibrating tissues, mg/kg.
  case tissueGlucose
  /// Ip: insulin mass in plasma, pmol/kg.
  case plasmaInsulin
  /// X: insulin action on glucose utilisation, pmol/L (0 at basal).
  case insulinActionOnUtilization
  /// I': delayed insulin signal, pmol/L.
  case delayedInsulin
  /// Id: delayed insulin signal acting on production, pmol/L.
  case insulinActionOnProduction
  /// Il: insulin mass in the liver, pmol/kg.
  case liverInsulin
  /// Isc1: nonmonomeric subcutaneous insulin, pmol/kg.
  case subcutaneousNonmonomericInsulin
  /// Isc2: monomeric subcutaneous insulin, pmol/kg.
  case subcutaneousMonomericInsulin
  /// Gs: subcutaneous glucose, mg/kg (blood glucose reading = Gs / Vg).
  case subcutaneousGlucose
}

/// The UVA/Padova type 1 diabetes model as simglucose 0.2.11 implements
/// it, for a batch of patients on `BatchedRungeKutta4`. Sources: Dalla Man
/// C, Rizza RA, Cobelli C, IEEE TBME 2007;54:1740-1749, and for gastric
/// emptying Dalla Man C, Camilleri M, Cobelli C, IEEE TBME
/// 2006;53:2472-2478.
///
/// Time runs in minutes inside the equations; `evaluate` returns the
/// derivatives per hour (x 60) because the integrator counts hours. The
/// inputs are held constant over each call of `advanceMinute` and set per
/// patient: carbohydrate ingestion d (mg/min), insulin infusion u
/// (pmol/kg/min) and the meal size Dbar (mg) of the gastric emptying rate.
///
/// Equations (per patient, symbols of `UVAPadovaParameters`):
/// - Qsto1' = -kmax Qsto1 + d; Qsto2' = kmax Qsto1 - kgut Qsto2;
///   Qgut' = kgut Qsto2 - kabs Qgut; Ra = f kabs Qgut / BW (mg/kg/min).
/// - kgut = kmin + (kmax - kmin)/2 [tanh(alpha (Qsto - b Dbar))
///   - tanh(beta (Qsto - d Dbar)) + 2] with alpha = 5 / (2 Dbar (1 - b)),
///   beta = 5 / (2 Dbar d), Qsto = Qsto1 + Qsto2; kgut = kmax when Dbar = 0.
/// - EGP = max(kp1 - kp2 Gp - kp3 Id, 0); E = ke1 (Gp - ke2) above ke2;
///   Gp' = EGP + Ra - Fsnc - E - k1 Gp + k2 Gt;
///   Gt' = -(Vm0 + Vmx X) Gt / (Km0 + Gt) + k1 Gp - k2 Gt.
/// - Ip' = -(m2 + m4) Ip + m1 Il + ka1 Isc1 + ka2 Isc2; I = Ip / Vi;
///   X' = -p2u X + p2u (I - Ib); dI'/dt = -ki (I' - I); Id' = -ki (Id - I');
///   Il' = -(m1 + m30) Il + m2 Ip.
/// - Isc1' = u - (ka1 + kd) Isc1; Isc2' = kd Isc1 - ka2 Isc2;
///   Gs' = -ksc Gs + ksc Gp.
/// As in simglucose, the derivatives of Gp, Gt, Ip, Il, Isc1, Isc2 and Gs
/// are 0 while that state is negative, and the masses are also clamped at 0
/// after every step (`nonNegativeComponents`).
public final class UVAPadovaBatchModel: BatchedRightHandSide {
  public let stateCount = UVAPadovaState.allCases.count
  /// Patients in the batch.
  public let patientCount: Int
  /// The components clamped at 0 after each step: all masses.
  public static let nonNegativeComponents: [Int] = [
    UVAPadovaState.stomachSolid, .stomachLiquid, .gut, .plasmaGlucose, .tissueGlucose,
    .plasmaInsulin, .liverInsulin, .subcutaneousNonmonomericInsulin,
    .subcutaneousMonomericInsulin, .subcutaneousGlucose,
  ].map(\.rawValue)

  /// Carbohydrate ingestion d per patient, mg/min.
  public var carbohydrateMilligramsPerMinute: [Double]
  /// Subcutaneous insulin infusion u per patient, pmol/kg/min.
  public var insulinPicomolesPerKilogramPerMinute: [Double]
  /// Meal size Dbar of the gastric emptying rate per patient, mg.
  public var mealSizeMilligrams: [Double]

  /// Parameters by name, `parameterIndex * patientCount + p`.
  private let table: UnsafeMutableBufferPointer<Double>
  private static let parameterCount = UVAPadovaParameters.names.count

  /// Creates the model for one patient per entry of `parameters`.
  /// - Precondition: `parameters` is not empty.
  public init(parameters: [UVAPadovaParameters]) {
    precondition(!parameters.isEmpty, "a UVA/Padova batch needs at least one patient")
    patientCount = parameters.count
    let zeros = [Double](repeating: 0, count: parameters.count)
    carbohydrateMilligramsPerMinute = zeros
    insulinPicomolesPerKilogramPerMinute = zeros
    mealSizeMilligrams = zeros
    table = .allocate(capacity: Self.parameterCount * parameters.count)
    table.initialize(repeating: 0)
    let base = UnsafePointer(table.baseAddress!)
    let count = parameters.count
    columns = Columns(Self.columnIndex.mapValues { base + $0 * count })
    setParameters(parameters)
  }

  deinit { table.deallocate() }

  /// Replaces the parameters of every patient.
  /// - Precondition: `parameters.count == patientCount`.
  public func setParameters(_ parameters: [UVAPadovaParameters]) {
    precondition(
      parameters.count == patientCount,
      "received \(parameters.count) parameter sets for \(patientCount) patients")
    for (p, patient) in parameters.enumerated() {
      for (index, value) in patient.values.enumerated() {
        table[index * patientCount + p] = value
      }
    }
  }

  /// Column index of every parameter name.
  private static let columnIndex = Dictionary(
    uniqueKeysWithValues: UVAPadovaParameters.names.enumerated().map { ($1, $0) })

  /// The start of each parameter's column in `table`, resolved once at
  /// initialisation: `evaluate` runs four times per RK4 step, and 31 name
  /// lookups per call cost more than the equations for small batches.
  private struct Columns {
    let bw, ib, kabs, kmax, kmin, b, d, f, vg, vi, vm0, vmx, km0, k1, k2, p2u: UnsafePointer<Double>
    let m1, m2, m4, m30, ki, kp1, kp2, kp3, fsnc, ke1, ke2, ka1, ka2, kd, ksc: UnsafePointer<Double>

    init(_ starts: [String: UnsafePointer<Double>]) {
      bw = starts["bw"]!; ib = starts["ib"]!; kabs = starts["kabs"]!; kmax = starts["kmax"]!
      kmin = starts["kmin"]!; b = starts["b"]!; d = starts["d"]!; f = starts["f"]!
      vg = starts["vg"]!; vi = starts["vi"]!; vm0 = starts["vm0"]!; vmx = starts["vmx"]!
      km0 = starts["km0"]!; k1 = starts["k1"]!; k2 = starts["k2"]!; p2u = starts["p2u"]!
      m1 = starts["m1"]!; m2 = starts["m2"]!; m4 = starts["m4"]!; m30 = starts["m30"]!
      ki = starts["ki"]!; kp1 = starts["kp1"]!; kp2 = starts["kp2"]!; kp3 = starts["kp3"]!
      fsnc = starts["fsnc"]!; ke1 = starts["ke1"]!; ke2 = starts["ke2"]!; ka1 = starts["ka1"]!
      ka2 = starts["ka2"]!; kd = starts["kd"]!; ksc = starts["ksc"]!
    }
  }
  private let columns: Columns

  public func evaluate(
    timeHours: Double, state x: UnsafePointer<Double>, derivative dx: UnsafeMutablePointer<Double>,
    patientCount n: Int
  ) {
    precondition(n == patientCount, "batch has \(patientCount) patients, state has \(n)")
    let c = columns
    let bw = c.bw, ib = c.ib, kabs = c.kabs, kmax = c.kmax, kmin = c.kmin, b = c.b, d = c.d
    let f = c.f, vi = c.vi, vm0 = c.vm0, vmx = c.vmx, km0 = c.km0, k1 = c.k1, k2 = c.k2
    let p2u = c.p2u, m1 = c.m1, m2 = c.m2, m4 = c.m4, m30 = c.m30, ki = c.ki, kp1 = c.kp1
    let kp2 = c.kp2, kp3 = c.kp3, fsnc = c.fsnc, ke1 = c.ke1, ke2 = c.ke2, ka1 = c.ka1
    let ka2 = c.ka2, kd = c.kd, ksc = c.ksc
    // Per-hour derivatives from per-minute equations.
    let perHour = 60.0

    carbohydrateMilligramsPerMinute.withUnsafeBufferPointer { meal in
      insulinPicomolesPerKilogramPerMinute.withUnsafeBufferPointer { insulin in
        mealSizeMilligrams.withUnsafeBufferPointer { mealSize in
          for p in 0..<n {
            let qsto1 = x[p], qsto2 = x[n + p], qgut = x[2 * n + p]
            let gp = x[3 * n + p], gt = x[4 * n + p], ip = x[5 * n + p]
            let xAction = x[6 * n + p], iPrime = x[7 * n + p], id = x[8 * n + p]
            let il = x[9 * n + p], isc1 = x[10 * n + p], isc2 = x[11 * n + p]
            let gs = x[12 * n + p]

            // Gastric emptying rate from the meal size (Dalla Man 2006).
            let dbar = mealSize[p]
            var kgut = kmax[p]
            if dbar > 0 {
              let qsto = qsto1 + qsto2
              let alpha = 5 / (2 * dbar * (1 - b[p]))
              let beta = 5 / (2 * dbar * d[p])
              kgut =
                kmin[p] + (kmax[p] - kmin[p]) / 2
                * (tanh(alpha * (qsto - b[p] * dbar))
                  - tanh(beta * (qsto - d[p] * dbar)) + 2)
            }

            // Meal absorption.
            dx[p] = perHour * (-kmax[p] * qsto1 + meal[p])
            dx[n + p] = perHour * (kmax[p] * qsto1 - kgut * qsto2)
            dx[2 * n + p] = perHour * (kgut * qsto2 - kabs[p] * qgut)
            let appearance = f[p] * kabs[p] * qgut / bw[p]

            // Glucose kinetics: production, renal excretion, utilisation.
            let production = max(kp1[p] - kp2[p] * gp - kp3[p] * id, 0)
            let excretion = gp > ke2[p] ? ke1[p] * (gp - ke2[p]) : 0
            let plasmaGlucoseRate =
              production + appearance - fsnc[p] - excretion - k1[p] * gp + k2[p] * gt
            dx[3 * n + p] = gp >= 0 ? perHour * plasmaGlucoseRate : 0
            let utilization = (vm0[p] + vmx[p] * xAction) * gt / (km0[p] + gt)
            dx[4 * n + p] = gt >= 0 ? perHour * (-utilization + k1[p] * gp - k2[p] * gt) : 0

            // Insulin kinetics and action.
            let plasmaInsulinRate =
              -(m2[p] + m4[p]) * ip + m1[p] * il + ka1[p] * isc1 + ka2[p] * isc2
            dx[5 * n + p] = ip >= 0 ? perHour * plasmaInsulinRate : 0
            let concentration = ip / vi[p]
            dx[6 * n + p] = perHour * p2u[p] * (concentration - ib[p] - xAction)
            dx[7 * n + p] = perHour * -ki[p] * (iPrime - concentration)
            dx[8 * n + p] = perHour * -ki[p] * (id - iPrime)
            let liverRate = -(m1[p] + m30[p]) * il + m2[p] * ip
            dx[9 * n + p] = il >= 0 ? perHour * liverRate : 0

            // Subcutaneous insulin and glucose.
            let isc1Rate = insulin[p] - (ka1[p] + kd[p]) * isc1
            dx[10 * n + p] = isc1 >= 0 ? perHour * isc1Rate : 0
            let isc2Rate = kd[p] * isc1 - ka2[p] * isc2
            dx[11 * n + p] = isc2 >= 0 ? perHour * isc2Rate : 0
            dx[12 * n + p] = gs >= 0 ? perHour * ksc[p] * (gp - gs) : 0
          }
        }
      }
    }
  }

  /// Returns the blood glucose readings Gs / Vg of every patient, mg/dL.
  public func bloodGlucose(state: UnsafePointer<Double>) -> [Double] {
    [Double](unsafeUninitializedCapacity: patientCount) { buffer, count in
      bloodGlucose(state: state, into: buffer.baseAddress!)
      count = patientCount
    }
  }

  /// Writes the blood glucose readings Gs / Vg of every patient, mg/dL,
  /// to `glucose` (`patientCount` values), without allocating.
  public func bloodGlucose(state: UnsafePointer<Double>, into glucose: UnsafeMutablePointer<Double>)
  {
    let vg = columns.vg
    let gs = state + UVAPadovaState.subcutaneousGlucose.rawValue * patientCount
    for p in 0..<patientCount { glucose[p] = gs[p] / vg[p] }
  }

  /// Returns the blood glucose reading Gs / Vg of patient `p`, mg/dL.
  public func bloodGlucose(state: UnsafePointer<Double>, patient p: Int) -> Double {
    state[UVAPadovaState.subcutaneousGlucose.rawValue * patientCount + p] / columns.vg[p]
  }
}
