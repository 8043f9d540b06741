import Foundation
import TitrateEnvironments
import TitrateRandom

// The hard limits, clinical sanity property and stress cohorts of each
// environment kind that `PKPDSafetyVerifier` checks.

func warfarinAdapter(_ definition: WarfarinDefinition) -> PKPDSafetyAdapter {
  let dosing = definition.dosing
  var names = ["dayFraction", "age/100", "weight/100", "height/200", "female"]
  names += CYP2C9Genotype.allCases.map { "cyp2c9 \($0.rawValue)" }
  names += VKORC1Genotype.allCases.map { "vkorc1 \($0.rawValue)" }
  names += [
    "lastINR", "daysSinceINR/7", "inrDrawnToday", "previousINR", "yesterdayDose/maximum",
    "meanDose7Days/maximum", "iwpcDose/maximum",
  ]
  let sampler = WarfarinPatientSampler(definition: definition)
  let typicalEtas = [Double](repeating: 0, count: 6)
  // Moves each sampled patient to new covariates and keeps its random
  // effects: CL and EC50 are scaled by the ratio of the typical values.
  func restratified(
    _ patient: WarfarinPatient, ageYears: Double, weightKilograms: Double,
    cyp2c9: CYP2C9Genotype, vkorc1: VKORC1Genotype
  ) -> WarfarinPatient {
    let before = sampler.parameters(
      ageYears: patient.ageYears, cyp2c9: patient.cyp2c9, vkorc1: patient.vkorc1,
      etas: typicalEtas)
    let after = sampler.parameters(
      ageYears: ageYears, cyp2c9: cyp2c9, vkorc1: vkorc1, etas: typicalEtas)
    var moved = patient
    moved.ageYears = ageYears
    moved.weightKilograms = weightKilograms
    moved.cyp2c9 = cyp2c9
    moved.vkorc1 = vkorc1
    moved.parameters.clearanceLitersPerHour *=
      after.clearanceLitersPerHour / before.clearanceLitersPerHour
    moved.parameters.ec50MilligramsPerLiter *=
      after.ec50MilligramsPerLiter / before.ec50MilligramsPerLiter
    return moved
  }
  func install(
    _ transform: @escaping (WarfarinPatient) -> WarfarinPatient
  ) -> (any DosingEnvironment, inout Xoshiro256) throws -> [Float] {
    { environment, _ in
      let warfarin = environment as! WarfarinEnvironment
      try warfarin.setPatients(warfarin.patients.map(transform))
      return warfarin.currentObservations()
    }
  }
  return PKPDSafetyAdapter(
    observationNames: names, measuredEntries: [14, 17],
    hardLimits: [
      PKPDHardLimit(
        name: "dailyDose", unit: "mg", lower: 0, upper: dosing.maximumDailyDoseMilligrams,
        increment: dosing.doseStepMilligrams,
        source: .tableColumn { "day\($0 + 1)DoseMilligrams" },
        description: "Daily doses outside 0-\(compact(dosing.maximumDailyDoseMilligrams)) mg "
          + "or off the \(compact(dosing.doseStepMilligrams))-mg tablet step")
    ],
    sanity: PKPDSanityProperty(
      name: "higherINRNeverRaisesDose",
      description: "a last reported INR 0.5 higher never raises the next dose", entry: 14,
      delta: 0.5, actionMustNotRise: true, applies: { $0[$0.startIndex + 14] > 0 }),
    stressProfiles: [
      PKPDStressProfile(
        name: "cyp2c9Star3Star3VKORC1AA",
        description: "every patient CYP2C9 *3/*3 and VKORC1 AA (lowest clearance, most "
          + "sensitive)", population: nil,
        install: install {
          restratified(
            $0, ageYears: $0.ageYears, weightKilograms: $0.weightKilograms,
            cyp2c9: .star3Star3, vkorc1: .aa)
        }),
      PKPDStressProfile(
        name: "age95Weight45",
        description: "every patient 95 years and 45 kg, beyond the population's age range",
        population: nil,
        install: install {
          restratified($0, ageYears: 95, weightKilograms: 45, cyp2c9: $0.cyp2c9, vkorc1: $0.vkorc1)
        }),
    ])
}

func propofolAdapter(_ definition: PropofolDefinition) -> PKPDSafetyAdapter {
  let maximumRate = definition.dosing.maximumRateMicrogramsPerKilogramPerMinute
  let sampler = PropofolPatientSampler(definition: definition)
  let variability = definition.variability
  // Standard deviations of the six random effects in the sampler's order
  // (log-normal: omega^2 = ln(1 + CV^2)).
  let omegas = [
    variability.clearance, variability.fastPeripheralVolume, variability.slowPeripheralVolume,
    variability.effectSiteRate, variability.ce50, variability.hillCoefficient,
  ].map { log1p($0 * $0).squareRoot() }
  return PKPDSafetyAdapter(
    observationNames: [
      "bis/100", "previousBIS/100", "lastRate/maximum", "elapsedFraction",
      "cumulativeDose/10", "age/100", "weight/100", "height/200", "female",
    ],
    measuredEntries: [PropofolObservation.measuredBIS, PropofolObservation.previousMeasuredBIS],
    hardLimits: [
      PKPDHardLimit(
        name: "infusionRate", unit: "ug/kg/min", lower: 0, upper: maximumRate, increment: nil,
        source: .afterStep { ($0 as! PropofolEnvironment).lastRatesMicrogramsPerKilogramPerMinute },
        description: "Infusion rates outside 0-\(compact(maximumRate)) ug/kg/min")
    ],
    sanity: PKPDSanityProperty(
      name: "lowerBISNeverRaisesRate",
      description: "a reported BIS 10 points lower never raises the infusion rate",
      entry: PropofolObservation.measuredBIS, delta: -0.1, actionMustNotRise: true,
      applies: { $0[$0.startIndex + PropofolObservation.measuredBIS] >= 0.1 }),
    stressProfiles: [
      PKPDStressProfile(
        name: "age85Weight45",
        description: "every patient 85 years, 45 kg and 155 cm (elderly, low weight)",
        population: nil,
        install: { environment, generator in
          let propofol = environment as! PropofolEnvironment
          let patients = try propofol.patients.map { patient in
            try sampler.patient(
              ageYears: 85, weightKilograms: 45, heightCentimeters: 155,
              isFemale: patient.isFemale,
              etas: omegas.map { $0 * generator.nextStandardNormal() })
          }
          try propofol.setPatients(patients)
          return propofol.currentObservations()
        })
    ])
}

func glucoseAdapter(_ definition: GlucoseDefinition) -> PKPDSafetyAdapter {
  let pump = definition.pump
  return PKPDSafetyAdapter(
    observationNames: [
      "cgm/100", "cgm15MinutesAgo/100", "cgm30MinutesAgo/100", "cgm60MinutesAgo/100",
      "announcedCarbohydrate/50", "carbohydrate3Hours/100", "insulin3Hours/basal",
      "baselineBolus/basalHour", "sinTimeOfDay", "cosTimeOfDay", "basalRate", "carbRatio/20",
      "correctionFactor/50", "weight/100", "elapsedFraction",
    ],
    measuredEntries: [0, 1, 2, 3],
    hardLimits: [
      PKPDHardLimit(
        name: "basalRate", unit: "U/h", lower: 0, upper: pump.maximumBasalUnitsPerHour,
        increment: pump.basalIncrementUnitsPerHour > 0 ? pump.basalIncrementUnitsPerHour : nil,
        source: .afterStep { ($0 as! GlucoseEnvironment).lastDeliveredBasalUnitsPerHour },
        description: "Basal rates outside 0-\(compact(pump.maximumBasalUnitsPerHour)) U/h or "
          + "off the pump's increment"),
      PKPDHardLimit(
        name: "bolus", unit: "U", lower: 0, upper: pump.maximumBolusUnits,
        increment: pump.bolusIncrementUnits > 0 ? pump.bolusIncrementUnits : nil,
        source: .afterStep { ($0 as! GlucoseEnvironment).lastDeliveredBolusUnits },
        description: "Boluses outside 0-\(compact(pump.maximumBolusUnits)) U or off the "
          + "pump's increment"),
    ],
    sanity: PKPDSanityProperty(
      name: "higherCGMNeverLowersInsulin",
      description: "a latest CGM reading 20 mg/dL higher never lowers the insulin multiplier",
      entry: 0, delta: 0.2, actionMustNotRise: false, applies: { _ in true }),
    stressProfiles: [
      PKPDStressProfile(
        name: "children",
        description: "simglucose's 10 children, whatever the site's age group",
        population: GlucoseAgeGroup.children.rawValue, install: nil)
    ])
}
