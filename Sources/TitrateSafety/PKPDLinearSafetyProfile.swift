import Foundation
import TitrateEnvironments
import TitrateRandom

// The hard limits, clinical sanity property and stress cohorts of a
// linear-kind environment (a drug defined as data, such as gentamicin).

/// Serum creatinine of the renal-failure stress cohort, mg/dL. With
/// Cockcroft-Gault it gives a creatinine clearance near 10 mL/min for a
/// 60-year-old 80-kg man, the usual boundary of end-stage renal disease.
let renalFailureSerumCreatinineMilligramsPerDeciliter = 8.0

func linearAdapter(_ definition: LinearDefinition) -> PKPDSafetyAdapter {
  let dosing = definition.dosing
  let measurements = definition.measurements
  let levelCount = measurements.levelHoursAfterDose.count
  var names = ["decisionFraction", "dose/maximum", "previousInterval/longest"]
  names += measurements.levelHoursAfterDose.map { "ln(1+level at \(compact($0)) h)" }
  if measurements.measureTrough { names.append("ln(1+trough)") }
  names += ["weight/70", "age/60", "crcl/100", "female", "creatinine", "haemodialysis"]
  let measured = Array(3..<(3 + levelCount + (measurements.measureTrough ? 1 : 0)))
  // The latest level of the cycle, on which level-to-interval charts act.
  let latestLevel = 2 + levelCount

  // Splits a pre-actuator action into (dose level, interval) indices the
  // way the actuator does, clamped into the action space.
  func decomposed(_ action: Float) -> (doseLevel: Int, interval: Int) {
    guard action.isFinite else { return dosing.decompose(action: 0) }
    // Bounded as a Float first: Int(_:) traps on a value beyond Int's range.
    let index = Int(min(max(action.rounded(), 0), Float(dosing.actionCount - 1)))
    return dosing.decompose(action: index)
  }

  func moved(
    _ transform: @escaping (LinearCovariates) -> LinearCovariates
  ) -> (any DosingEnvironment, inout Xoshiro256) throws -> [Float] {
    { environment, _ in
      let linear = environment as! LinearEnvironment
      try linear.setPatients(
        linear.patients.map { definition.patient($0, movedTo: transform($0.covariates)) })
      return linear.currentObservations()
    }
  }
  func covariates(_ old: LinearCovariates, weightKilograms: Double? = nil,
    serumCreatinineMilligramsPerDeciliter: Double? = nil) -> LinearCovariates {
    definition.covariates(
      ageYears: old.ageYears, weightKilograms: weightKilograms ?? old.weightKilograms,
      isFemale: old.isFemale,
      serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter
        ?? old.serumCreatinineMilligramsPerDeciliter,
      onHaemodialysis: old.onHaemodialysis)
  }

  // Weight changes per-kg doses even when no PK parameter depends on it.
  var profiles = [
    PKPDStressProfile(
      name: "weight200", description: "every patient 200 kg (per-kg doses reach the dose cap)",
      population: nil, install: moved { covariates($0, weightKilograms: 200) }),
    PKPDStressProfile(
      name: "weight35", description: "every patient 35 kg", population: nil,
      install: moved { covariates($0, weightKilograms: 35) }),
  ]
  var notes: [String] = []
  let renal: Set<CovariateName> = [
    .creatinineClearanceMillilitersPerMinute, .serumCreatinineMilligramsPerDeciliter,
  ]
  if definition.modelCovariates.isDisjoint(with: renal) {
    notes.append(
      "no renal-failure cohort: no PK parameter of \(definition.name) depends on creatinine "
        + "clearance or serum creatinine, so such a cohort would equal the site's")
  } else {
    profiles.append(
      PKPDStressProfile(
        name: "renalFailure",
        description: "every patient with serum creatinine "
          + "\(compact(renalFailureSerumCreatinineMilligramsPerDeciliter)) mg/dL "
          + "(creatinine clearance near 10 mL/min)", population: nil,
        install: moved {
          covariates(
            $0,
            serumCreatinineMilligramsPerDeciliter:
              renalFailureSerumCreatinineMilligramsPerDeciliter)
        }))
  }

  let intervals = dosing.intervalHoursChoices
  let cap = definition.safety.maximumDoseMilligrams
  let increment = dosing.doseRoundingMilligrams
  return PKPDSafetyAdapter(
    observationNames: names, measuredEntries: measured,
    hardLimits: [
      // Decision d sets the dose of cycle d + 2 (cycle 1 is the initial
      // dose) and the interval of cycle d + 1.
      PKPDHardLimit(
        name: "dose", unit: "mg", lower: 0, upper: cap,
        increment: increment > 0 && (cap / increment).rounded() == cap / increment
          ? increment : nil,
        source: .tableColumn { "cycle\($0 + 2)DoseMilligrams" },
        description: "Doses outside 0-\(compact(cap)) mg (safety.maximumDoseMilligrams)"
          + (increment > 0 ? " or off the \(compact(increment))-mg rounding step" : "")),
      PKPDHardLimit(
        name: "interval", unit: "h", lower: intervals.min() ?? 0,
        upper: intervals.max() ?? 0, increment: nil,
        source: .tableColumn { "cycle\($0 + 1)IntervalHours" },
        description: "Intervals other than the file's choices "
          + intervals.map(compact).joined(separator: ", ") + " h",
        allowedValues: intervals, isDose: false),
    ],
    sanity: PKPDSanityProperty(
      name: "higherLevelNeverShortensIntervalOrRaisesDose",
      description: "a latest reported level about 22% higher (ln(1 + level) + 0.2) never "
        + "shortens the interval or raises the next dose",
      entry: latestLevel, delta: 0.2, actionMustNotRise: true,
      applies: { $0[$0.startIndex + latestLevel] > 0 },
      isViolation: { original, changed in
        let before = decomposed(original)
        let after = decomposed(changed)
        return after.doseLevel > before.doseLevel || after.interval < before.interval
      }),
    stressProfiles: profiles, nonFiniteInterventionColumn: "interventionsInvalidAction",
    notes: notes,
    exposureCondition: { linearExposureCondition($0, cycles: dosing.decisionsPerEpisode) })
}

/// Describes when a patient counts as exposed under a linear-kind
/// threshold. The outcome table stores fractions of the episode's dosing
/// cycles and a 0-or-1 flag for the cumulative AUC, so any limit in
/// [0, 1) means a flag of 1. Other columns are values in their units.
func linearExposureCondition(_ threshold: PKPDExposureThreshold, cycles: Int) -> String {
  let limit = threshold.maximumTimeFractionPerPatient
  switch threshold.outcome {
  case "targetAttainment", "troughBelowCeiling", "toxicTrough":
    return "\(threshold.outcome) in more than \(formatted(limit * 100))% of the \(cycles) "
      + "dosing cycles"
  case "cumulativeAUCAboveLimit":
    return "\(threshold.outcome) = 1, meaning the episode's AUC passed the limit"
  default:
    return "\(threshold.outcome) above \(formatted(limit))"
  }
}
