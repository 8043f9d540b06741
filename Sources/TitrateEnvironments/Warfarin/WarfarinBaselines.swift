import Foundation

/// The running state of one baseline protocol for every patient.
struct WarfarinBaselineState {
  /// Current weekly maintenance dose, mg (unrounded).
  var weeklyDoseMilligrams: [Double]
  /// Days of the current hold still to come.
  var holdDaysRemaining: [Int]
  /// The day whose actions `actions` holds, so a second call for the same
  /// day returns them without adjusting again.
  var day: Int
  var actions: [Float]
}

// Built-in baselines of `WarfarinEnvironment`: a start dose from an IWPC
// equation (or a fixed 5 mg) followed by the definition's INR-based
// adjustment protocol.
extension WarfarinEnvironment {
  /// `iwpc_pharmacogenetic`, `iwpc_clinical` and `fixed_5mg`.
  public var baselineNames: [String] { ["iwpc_pharmacogenetic", "iwpc_clinical", "fixed_5mg"] }

  /// Returns each environment's baseline action for the current day, in
  /// the environment's action units (level index or mg).
  ///
  /// Start: the IWPC weekly dose (pharmacogenetic or clinical equation) or
  /// 35 mg a week, divided by 7. Then, on each morning with a reported
  /// INR, the band of `baselines.adjustment` that contains it sets a hold
  /// and a change of the weekly dose. A band without a hold changes the
  /// dose only from `firstAdjustmentDay` on, because earlier INRs mostly
  /// show the delay of the response. A band with a hold applies its hold
  /// and change on any day. The daily dose is the weekly dose / 7 rounded
  /// to the tablet step, within [`minimumDailyDoseMilligrams`, maximum],
  /// or 0 on hold days.
  ///
  /// The protocol keeps its own weekly dose per patient, so the actions
  /// are those of the protocol even when another policy doses the
  /// patients. Calling twice on the same day returns the same actions.
  /// NOTE: a protocol first called after day 1 starts from its initial
  /// dose on that day, without the adjustments of the days it missed.
  /// - Throws: `BaselineError.unknownBaseline` for another name.
  public func baselineActions(named name: String) throws(BaselineError) -> [Float] {
    guard baselineNames.contains(name) else {
      throw .unknownBaseline(name: name, known: baselineNames)
    }
    var protocolState = baselineStates[name] ?? startBaseline(named: name)
    if protocolState.day == day, !protocolState.actions.isEmpty { return protocolState.actions }
    let adjustment = definition.baselines.adjustment
    let dosing = definition.dosing
    var doses = [Double](repeating: 0, count: batchSize)
    for p in 0..<batchSize {
      if records.measuredToday, let inr = records.lastMeasuredINR(patient: p) {
        let band = adjustment.band(for: inr)
        if band.holdDays > 0 {
          protocolState.holdDaysRemaining[p] = band.holdDays
        }
        if band.holdDays > 0 || day + 1 >= adjustment.firstAdjustmentDay {
          protocolState.weeklyDoseMilligrams[p] *= 1 + band.weeklyDoseChangeFraction
        }
      }
      if protocolState.holdDaysRemaining[p] > 0 {
        protocolState.holdDaysRemaining[p] -= 1
        doses[p] = 0
      } else {
        doses[p] = protocolDailyDose(weeklyMilligrams: protocolState.weeklyDoseMilligrams[p])
      }
    }
    protocolState.day = day
    protocolState.actions = doses.map {
      actionMode == .discreteLevels
        ? Float(($0 / dosing.doseStepMilligrams).rounded()) : Float($0)
    }
    baselineStates[name] = protocolState
    return protocolState.actions
  }

  /// Returns the daily dose for a weekly dose: weekly / 7 rounded to the
  /// tablet step, within [minimum protocol dose, maximum daily dose].
  func protocolDailyDose(weeklyMilligrams: Double) -> Double {
    let dosing = definition.dosing
    let step = dosing.doseStepMilligrams
    let rounded = (weeklyMilligrams / 7 / step).rounded() * step
    let minimum = definition.baselines.adjustment.minimumDailyDoseMilligrams
    return min(max(rounded, minimum), dosing.maximumDailyDoseMilligrams)
  }

  /// Starts a protocol with the initial weekly dose of every patient.
  private func startBaseline(named name: String) -> WarfarinBaselineState {
    let weekly = patients.map { patient -> Double in
      switch name {
      case "iwpc_pharmacogenetic":
        return definition.baselines.iwpcPharmacogenetic.weeklyDoseMilligrams(
          ageYears: patient.ageYears, heightCentimeters: patient.heightCentimeters,
          weightKilograms: patient.weightKilograms, cyp2c9: patient.cyp2c9,
          vkorc1: patient.vkorc1)
      case "iwpc_clinical":
        return definition.baselines.iwpcClinical.weeklyDoseMilligrams(
          ageYears: patient.ageYears, heightCentimeters: patient.heightCentimeters,
          weightKilograms: patient.weightKilograms, cyp2c9: patient.cyp2c9,
          vkorc1: patient.vkorc1)
      default:
        return 35
      }
    }
    return WarfarinBaselineState(
      weeklyDoseMilligrams: weekly, holdDaysRemaining: [Int](repeating: 0, count: batchSize),
      day: -1, actions: [])
  }
}
