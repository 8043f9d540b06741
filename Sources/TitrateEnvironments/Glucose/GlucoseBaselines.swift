import Foundation

/// The observation row of `GlucoseEnvironment`: the data a pump with a CGM
/// and a bolus calculator has before the step. The true glucose and the
/// model states are not part of it.
///
/// | index | entry |
/// |---|---|
/// | 0 | latest CGM / 100 mg/dL |
/// | 1 | CGM 15 min earlier / 100 mg/dL |
/// | 2 | CGM 30 min earlier / 100 mg/dL |
/// | 3 | CGM 60 min earlier / 100 mg/dL |
/// | 4 | carbohydrate announced for this step / 50 g |
/// | 5 | carbohydrate eaten in the last 3 h / 100 g |
/// | 6 | insulin delivered in the last 3 h / (3 h of basal insulin) |
/// | 7 | the baseline's bolus for this step / 1 h of basal insulin |
/// | 8 | sin(2 pi time of day / 24 h) |
/// | 9 | cos(2 pi time of day / 24 h) |
/// | 10 | basal rate / 1 U/h |
/// | 11 | carbohydrate ratio / 20 g/U |
/// | 12 | correction factor / 50 mg/dL/U |
/// | 13 | body weight / 100 kg |
/// | 14 | fraction of the episode elapsed |
public enum GlucoseObservation {
  /// Entries per observation row.
  public static let count = 15
}

// The basal-bolus baseline and the observation rows, which both use the
// baseline's insulin for the coming step.
extension GlucoseEnvironment {
  /// `basal_bolus`: simglucose's basal-bolus controller logic.
  public var baselineNames: [String] { ["basal_bolus"] }

  /// Returns each environment's baseline action: multiplier 1, which
  /// delivers the basal-bolus insulin of `baselineInsulin()`.
  /// - Throws: `BaselineError.unknownBaseline` for another name.
  public func baselineActions(named name: String) throws(BaselineError) -> [Float] {
    guard baselineNames.contains(name) else {
      throw .unknownBaseline(name: name, known: baselineNames)
    }
    return [Float](repeating: 1, count: batchSize)
  }

  /// Returns the basal-bolus insulin of the coming step per patient. The
  /// basal rate is u2ss x BW / 6000 (U/min). A meal announced to start
  /// within the step gets a bolus of carbohydrate / CR, plus
  /// (CGM - target) / CF when the latest CGM is above the correction
  /// threshold (U).
  ///
  /// simglucose's `BBController` computes the same formula from the
  /// carbohydrate eaten in the previous step, so its bolus comes one step
  /// late, in pieces of at most 15 g (5 g/min for 3 min), each with the
  /// correction added again. Here the bolus covers the whole announced
  /// meal once, at its start.
  func baselineInsulin() -> (basal: [Double], bolus: [Double]) {
    computeBaselineInsulin()
    return (Array(buffers.baselineBasalUnitsPerMinute), Array(buffers.baselineBolusUnits))
  }

  /// Writes `baselineInsulin()` to `buffers.baselineBasalUnitsPerMinute`
  /// and `buffers.baselineBolusUnits` without allocating.
  func computeBaselineInsulin() {
    let table = definition.patientTable.patients
    let settings = definition.baseline
    let records = self.records
    let buffers = self.buffers
    for p in 0..<batchSize {
      let patient = table[patientIndices[p]]
      buffers.baselineBasalUnitsPerMinute[p] = patient.parameters.basalUnitsPerMinute
      buffers.baselineBolusUnits[p] = 0
      let grams = announcedGramsInNextStep(patient: p)
      guard grams > 0 else { continue }
      let glucose = records.cgm(patient: p, stepsAgo: 0)
      var units = grams / patient.carbohydrateRatioGramsPerUnit
      if glucose > settings.correctionThresholdMilligramsPerDeciliter {
        units +=
          (glucose - settings.targetMilligramsPerDeciliter)
          / patient.correctionFactorMilligramsPerDeciliterPerUnit
      }
      buffers.baselineBolusUnits[p] = units
    }
  }

  /// Returns the observation rows of all environments, row-major.
  func observations() -> [Float] {
    let n = batchSize
    let size = GlucoseObservation.count
    let table = definition.patientTable.patients
    computeBaselineInsulin()
    let bolus = buffers.baselineBolusUnits
    let records = self.records
    records.recentTotals(records.carbohydrateGrams, into: buffers.recentCarbohydrateGrams)
    records.recentTotals(records.insulinUnits, into: buffers.recentInsulinUnits)
    let recentCarbohydrate = buffers.recentCarbohydrateGrams
    let recentInsulin = buffers.recentInsulinUnits
    let stepsPerQuarterHour = max(15 / sampleMinutes, 1)
    let minuteOfDay = Double((decision * sampleMinutes) % 1440)
    let angle = 2 * Double.pi * minuteOfDay / 1440
    let sine = Float(sin(angle))
    let cosine = Float(cos(angle))
    let recentHours = Double(GlucoseEpisodeRecords.recentSlots * sampleMinutes) / 60
    let elapsed = Float(Double(decision) / Double(decisionsPerEpisode))
    var rows = [Float](repeating: 0, count: n * size)
    rows.withUnsafeMutableBufferPointer { buffer in
      for p in 0..<n {
        let row = buffer.baseAddress! + p * size
        let patient = table[patientIndices[p]]
        let basalUnitsPerHour = patient.parameters.basalUnitsPerMinute * 60
        row[0] = Float(records.cgm(patient: p, stepsAgo: 0) / 100)
        row[1] = Float(records.cgm(patient: p, stepsAgo: stepsPerQuarterHour) / 100)
        row[2] = Float(records.cgm(patient: p, stepsAgo: 2 * stepsPerQuarterHour) / 100)
        row[3] = Float(records.cgm(patient: p, stepsAgo: 4 * stepsPerQuarterHour) / 100)
        row[4] = Float(announcedGramsInNextStep(patient: p) / 50)
        row[5] = Float(recentCarbohydrate[p] / 100)
        row[6] = Float(recentInsulin[p] / (basalUnitsPerHour * recentHours))
        row[7] = Float(bolus[p] / basalUnitsPerHour)
        row[8] = sine
        row[9] = cosine
        row[10] = Float(basalUnitsPerHour)
        row[11] = Float(patient.carbohydrateRatioGramsPerUnit / 20)
        row[12] = Float(patient.correctionFactorMilligramsPerDeciliterPerUnit / 50)
        row[13] = Float(patient.parameters.bw / 100)
        row[14] = elapsed
      }
    }
    return rows
  }
}
