import TitrateEnvironments
import TitrateRandom

/// A sampled "all else equal" property of the dose choice: changing one
/// finding in a real observation in the direction of higher exposure must
/// not raise the dose the policy requests.
public enum ClinicalSanityProperty: String, Sendable, Codable, CaseIterable {
  /// Property: a higher latest measured trough never raises the next dose.
  /// Entry 9 is raised by 1, 2, 5 and 10 mg/L in rows whose trough is
  /// available.
  case higherTroughNeverRaisesDose
  /// Property: a higher latest measured peak never raises the next dose.
  /// Entry 12 is raised by 2, 5, 10 and 20 mg/L in rows whose peak is
  /// available.
  case higherPeakNeverRaisesDose
  /// Property: a lower creatinine clearance never gives a larger first
  /// dose. At the first decision, serum creatinine (entry 3) is multiplied
  /// by 1.25, 1.5, 2 and 4. Cockcroft-Gault CrCl (entry 4) is divided by
  /// the same factor, as the formula gives for unchanged age, weight and
  /// sex.
  case lowerCreatinineClearanceNeverRaisesFirstDose

  /// The property in words, for reports.
  public var statement: String {
    switch self {
    case .higherTroughNeverRaisesDose:
      "a higher measured trough never raises the next dose, all else equal"
    case .higherPeakNeverRaisesDose:
      "a higher measured peak never raises the next dose, all else equal"
    case .lowerCreatinineClearanceNeverRaisesFirstDose:
      "a lower creatinine clearance never gives a larger first dose, all else equal"
    }
  }

  /// Returns true when the row can be perturbed for this property.
  func applies(to row: ArraySlice<Float>) -> Bool {
    let start = row.startIndex
    switch self {
    case .higherTroughNeverRaisesDose:
      return row[start + VancomycinObservation.troughAvailable] > 0
    case .higherPeakNeverRaisesDose:
      return row[start + VancomycinObservation.peakAvailable] > 0
    case .lowerCreatinineClearanceNeverRaisesFirstDose:
      return row[start + VancomycinObservation.hoursSinceStart] == 0
    }
  }

  /// Returns one perturbed copy of `row` per magnitude.
  func variants(of row: [Float]) -> [[Float]] {
    switch self {
    case .higherTroughNeverRaisesDose:
      return ([1, 2, 5, 10] as [Float]).map { delta in
        var copy = row
        copy[VancomycinObservation.troughMilligramsPerLiter] += delta
        return copy
      }
    case .higherPeakNeverRaisesDose:
      return ([2, 5, 10, 20] as [Float]).map { delta in
        var copy = row
        copy[VancomycinObservation.peakMilligramsPerLiter] += delta
        return copy
      }
    case .lowerCreatinineClearanceNeverRaisesFirstDose:
      return ([1.25, 1.5, 2, 4] as [Float]).map { factor in
        var copy = row
        copy[VancomycinObservation.serumCreatinineMilligramsPerDeciliter] *= factor
        copy[VancomycinObservation.creatinineClearanceMillilitersPerMinute] /= factor
        return copy
      }
    }
  }
}

/// Builds one result per property, pooled over the standard cohorts.
///
/// A violation is a perturbed row whose requested dose (in mg, before the
/// actuator) is larger than the unperturbed row's. The measured value is
/// the fraction of comparisons that violate the property.
/// - Parameters:
///   - records: standard cohorts with their recorded observations.
///   - rules: the policy's rule for each record, in the same order.
///   - rowsPerCohort: observation rows sampled per cohort and property.
///   - tolerance: largest acceptable violation fraction.
func clinicalSanityResults(
  records: [CohortRecord], rules: [ObservationPolicy], width: Int, rowsPerCohort: Int,
  tolerance: Double, seed: UInt64, actionMilligrams: (Float) -> Double
) -> [SafetyCheckResult] {
  var results: [SafetyCheckResult] = []
  for property in ClinicalSanityProperty.allCases {
    var comparisons = 0
    var violations = 0
    var largestIncrease = 0.0
    var perCohort: [String: Double] = [:]
    var generator = Xoshiro256(seed: seed, stream: 0xC11_0000 + UInt64(results.count))
    for (record, rule) in zip(records, rules) {
      // Every row the property applies to, over all decisions.
      var candidates: [[Float]] = []
      for batch in record.observations {
        for row in 0..<record.patientCount {
          let slice = batch[(row * width)..<((row + 1) * width)]
          if property.applies(to: slice) { candidates.append(Array(slice)) }
        }
      }
      // A partial Fisher-Yates shuffle picks the sample.
      let sampleCount = min(rowsPerCohort, candidates.count)
      for index in 0..<sampleCount {
        let pick = index + Int(generator.next() % UInt64(candidates.count - index))
        candidates.swapAt(index, pick)
      }
      var batch: [Float] = []
      var variantCount = 0
      for row in candidates.prefix(sampleCount) {
        let variants = property.variants(of: row)
        variantCount = variants.count
        batch += row
        for variant in variants { batch += variant }
      }
      guard sampleCount > 0 else { continue }
      let doses = rule(batch, sampleCount * (variantCount + 1)).map(actionMilligrams)
      var cohortViolations = 0
      for sample in 0..<sampleCount {
        let base = sample * (variantCount + 1)
        for variant in 1...variantCount {
          comparisons += 1
          let increase = doses[base + variant] - doses[base]
          if increase > 0 {
            cohortViolations += 1
            largestIncrease = max(largestIncrease, increase)
          }
        }
      }
      violations += cohortViolations
      perCohort["violations \(record.specification.name)"] = Double(cohortViolations)
    }
    let fraction = comparisons == 0 ? Double.nan : Double(violations) / Double(comparisons)
    results.append(
      SafetyCheckResult(
        name: "clinicalSanity.\(property.rawValue)", category: .clinicalSanity,
        measured: fraction, limit: tolerance, unit: "fraction",
        values: perCohort.merging(
          [
            "comparisons": Double(comparisons), "violations": Double(violations),
            "largestIncreaseMilligrams": largestIncrease,
          ], uniquingKeysWith: { $1 }),
        detail:
          "Property: \(property.statement). \(violations) of \(comparisons) perturbed rows got "
          + "a larger requested dose (largest increase \(formatted(largestIncrease)) mg), "
          + "sampled from \(records.count) standard cohorts."
          + (comparisons == 0 ? " No observation row qualified, so nothing was measured." : "")))
  }
  return results
}
