/// The observation row of `WarfarinEnvironment`: the information a clinic
/// has in the morning before the day's dose. The true INR and the model
/// parameters are not part of it.
///
/// | index | entry |
/// |---|---|
/// | 0 | day / episodeDays (0 at the first dose) |
/// | 1 | age / 100 years |
/// | 2 | weight / 100 kg |
/// | 3 | height / 200 cm |
/// | 4 | female (0 or 1) |
/// | 5-10 | CYP2C9 one-hot, `CYP2C9Genotype.allCases` order |
/// | 11-13 | VKORC1 one-hot, `VKORC1Genotype.allCases` order |
/// | 14 | last reported INR (0 before the first) |
/// | 15 | days since that INR / 7 (days since the start before the first) |
/// | 16 | 1 when the INR was drawn this morning |
/// | 17 | the reported INR before the last one (0 when none) |
/// | 18 | yesterday's dose / maximum daily dose |
/// | 19 | mean dose of the last 7 days / maximum daily dose |
/// | 20 | IWPC pharmacogenetic daily dose / maximum daily dose |
public enum WarfarinObservation {
  /// Entries per observation row.
  public static let count = 21
}

extension WarfarinEnvironment {
  /// Returns the observation rows of all environments, row-major.
  func observations() -> [Float] {
    let n = batchSize
    let size = WarfarinObservation.count
    let maximumDose = definition.dosing.maximumDailyDoseMilligrams
    let equation = definition.baselines.iwpcPharmacogenetic
    var rows = [Float](repeating: 0, count: n * size)
    let lastMeasurementDay: Int? =
      records.measurementsTaken > 0
      ? measurementDayIndices[records.measurementsTaken - 1] : nil
    for p in 0..<n {
      let patient = patients[p]
      var row = [Double](repeating: 0, count: size)
      row[0] = Double(day) / Double(episodeDays)
      row[1] = patient.ageYears / 100
      row[2] = patient.weightKilograms / 100
      row[3] = patient.heightCentimeters / 200
      row[4] = patient.isFemale ? 1 : 0
      row[5 + patient.cyp2c9.index] = 1
      row[11 + patient.vkorc1.index] = 1
      row[14] = records.lastMeasuredINR(patient: p) ?? 0
      row[15] = Double(day - (lastMeasurementDay ?? 0)) / 7
      row[16] = records.measuredToday ? 1 : 0
      row[17] = records.previousMeasuredINR(patient: p) ?? 0
      if day > 0 { row[18] = records.doses[(day - 1) * n + p] / maximumDose }
      var recentTotal = 0.0
      for past in max(0, day - 7)..<day { recentTotal += records.doses[past * n + p] }
      row[19] = recentTotal / 7 / maximumDose
      let weekly = equation.weeklyDoseMilligrams(
        ageYears: patient.ageYears, heightCentimeters: patient.heightCentimeters,
        weightKilograms: patient.weightKilograms, cyp2c9: patient.cyp2c9,
        vkorc1: patient.vkorc1)
      row[20] = weekly / 7 / maximumDose
      for (index, value) in row.enumerated() { rows[p * size + index] = Float(value) }
    }
    return rows
  }
}
