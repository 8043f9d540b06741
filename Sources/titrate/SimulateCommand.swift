import Foundation
import TitrateEnvironments
import TitrateEvaluation
import TitrateFederation
import TitratePKPD
import TitratePolicy
import TitrateRandom

/// `titrate simulate`: one patient's concentration-time course under a
/// fixed regimen or a checkpoint's policy.
enum SimulateCommand {
  static let usage =
    "titrate simulate (--dose-mg MG --interval-hours H --infusion-hours H | --environment NAME [--baseline NAME] | --checkpoint FILE) [covariates] [--csv FILE] [--svg FILE]"

  static let options: [OptionSpecification] = [
    .init(
      name: "environment", valueName: "NAME|FILE",
      help: "environment for the patient model (ignored with --checkpoint)",
      defaultValue: "vancomycin"),
    .init(
      name: "environments-dir", valueName: "DIR", help: "folder of environment definitions",
      defaultValue: nil),
    .init(
      name: "population", valueName: "NAME",
      help: "population whose PK model describes the patient", defaultValue: "icu_arc"),
    .init(name: "age", valueName: "YEARS", help: "age, 18-120 years", defaultValue: "60"),
    .init(
      name: "weight", valueName: "KG", help: "total body weight, 20-400 kg", defaultValue: "80"),
    .init(
      name: "sex", valueName: "male|female", help: "sex for the Cockcroft-Gault equation",
      defaultValue: "male"),
    .init(
      name: "creatinine", valueName: "MG/DL", help: "serum creatinine, 0.1-20 mg/dL",
      defaultValue: "1.0"),
    .init(
      name: "haemodialysis", valueName: nil, help: "the patient is on intermittent haemodialysis",
      defaultValue: nil),
    .init(
      name: "intensive-care", valueName: nil,
      help: "the patient is treated in intensive care (an input of --checkpoint policies only)",
      defaultValue: nil),
    .init(
      name: "dose-mg", valueName: "MG", help: "maintenance dose, 0-10000 mg", defaultValue: nil),
    .init(
      name: "loading-dose-mg", valueName: "MG",
      help: "first dose when it differs from the maintenance dose, 0-10000 mg", defaultValue: nil),
    .init(
      name: "interval-hours", valueName: "H", help: "dosing interval, 1-168 h (q12h: 12)",
      defaultValue: "12"),
    .init(
      name: "infusion-hours", valueName: "H", help: "infusion duration of each dose, 0.25-24 h",
      defaultValue: "1"),
    .init(
      name: "checkpoint", valueName: "FILE",
      help: "dose with this checkpoint's learned policy instead of a fixed regimen",
      defaultValue: nil),
    .init(
      name: "site", valueName: "NAME",
      help:
        "with --checkpoint: site whose measurement error and (per-site normalisation) observation statistics to use; default: the first site of --population, else the first site",
      defaultValue: nil),
    .init(name: "hours", valueName: "H", help: "simulated time, 1-2000 h", defaultValue: "72"),
    .init(
      name: "baseline", valueName: "NAME",
      help:
        "warfarin, propofol, glucose and linear kinds: baseline policy that doses (default: the kind's first)",
      defaultValue: nil),
    .init(
      name: "noise-seed", valueName: "N",
      help:
        "warfarin, propofol, glucose and linear kinds: turn measurement noise on with this seed (default: off)",
      defaultValue: nil),
    .init(
      name: "csv", valueName: "FILE",
      help: "write the concentration-time course (other kinds: one row per decision) as CSV",
      defaultValue: nil),
    .init(
      name: "svg", valueName: "FILE", help: "write a plot of the course with the target window",
      defaultValue: nil),
  ]

  static func run(_ arguments: [String]) throws {
    guard
      let parsed = try parseCommandLine(
        command: "simulate", arguments: arguments, usage: usage,
        summary:
          "Simulate one patient (the typical patient of a population's PK model for the given covariates) under a fixed regimen, for example 1250 mg q12h over 2.25 h, or under a checkpoint's policy. Prints each dose, AUC24, Cmax and Cmin per day.",
        options: options,
        details:
          "Example: titrate simulate --dose-mg 1250 --interval-hours 12 --infusion-hours 2.25 --age 70 --weight 75 --creatinine 1.4 --svg course.svg"
      )
    else { return }
    try parsed.checkPositionals(maximum: 0, usage: usage)
    let hours = try parsed.double("hours", in: 1...2000, unit: "h")

    var definition: EnvironmentDefinition
    var trained: TrainedPolicy?
    if let path = parsed.string("checkpoint") {
      let regimenOptions = ["dose-mg", "loading-dose-mg", "interval-hours", "infusion-hours", "environment"]
      if let conflicting = regimenOptions.first(where: { parsed.explicitOptions.contains($0) }) {
        throw CommandError.usage(
          "--\(conflicting) cannot be combined with --checkpoint: the checkpoint's policy chooses the doses on the checkpoint's environment")
      }
      let policy = try loadTrainedPolicy(try readCheckpoint(path), path: path)
      if let environment = try PKPDEnvironment.decodeStored(policy.environment) {
        try PKPDSimulate.run(parsed, environment: environment, trained: policy)
        return
      }
      definition = try decodeCheckedDefinition(of: policy)
      trained = policy
    } else {
      let catalog = try EnvironmentCatalog(explicitDirectory: parsed.string("environments-dir"))
      let name = try parsed.requiredString("environment")
      if let (environment, _) = try PKPDEnvironment.load(catalog, name) {
        try PKPDSimulate.run(parsed, environment: environment, trained: nil)
        return
      }
      definition = try catalog.load(name).0
    }
    for option in ["baseline", "noise-seed"] where parsed.explicitOptions.contains(option) {
      throw CommandError.usage(
        "--\(option) does not apply to vancomycin; give --dose-mg or --checkpoint instead")
    }
    let patientPopulation = try parsed.requiredString("population")
    let patient: VirtualPatient
    do {
      patient = try definition.typicalPatient(
        populationName: patientPopulation,
        ageYears: try parsed.double("age", in: 18...120, unit: "years"),
        weightKilograms: try parsed.double("weight", in: 20...400, unit: "kg"),
        isFemale: try parsed.choice("sex", from: ["male", "female"]) == "female",
        serumCreatinineMilligramsPerDeciliter: try parsed.double("creatinine", in: 0.1...20, unit: "mg/dL"),
        onHaemodialysis: parsed.flag("haemodialysis"),
        inIntensiveCare: parsed.flag("intensive-care"))
    } catch let error as PatientSpecificationError {
      throw CommandError.usage("\(error)")
    }

    if parsed.flag("haemodialysis"), let population = definition.populations[patientPopulation],
      let model = definition.models[population.model],
      !model.parameters.present.contains(where: { _, parameter in
        parameter.covariateEffects.contains { $0.covariate == .haemodialysis }
      })
    {
      printError(
        "titrate simulate: warning: model \(population.model) has no haemodialysis effect, so --haemodialysis does not change this patient; use a population whose model has one (goti2018)")
    }
    let stepHours = definition.dosing.simulationStepHours
    var doses: [ScheduledDose]
    if let trained {
      doses = try policyDoses(
        trained, definition: definition, patient: patient, site: parsed.string("site"),
        population: try parsed.requiredString("population"))
    } else {
      doses = try regimenDoses(parsed, hours: hours, stepHours: stepHours, definition: definition)
    }
    doses = doses.filter { $0.startHours < hours }
    let course = try simulateCourse(
      patient: patient, doses: doses, hours: hours, stepHours: stepHours)
    printSummary(patient: patient, doses: doses, course: course, definition: definition)
    if let csvPath = parsed.string("csv"), csvPath == parsed.string("svg") {
      throw CommandError.usage("--csv and --svg name the same file \(csvPath); give two files")
    }
    if trained != nil && hours > definition.dosing.episodeHours {
      printError(
        "titrate simulate: note: the policy doses during its \(formatNumber(definition.dosing.episodeHours))-h episode only; later hours show the washout")
    }
    if hours < 24 {
      printError("titrate simulate: note: --hours \(formatNumber(hours)) is under 24 h, so no day's AUC24 is complete")
    }
    if let path = try parsed.outputPath("csv") { try writeCSV(course, to: path) }
    if let path = try parsed.outputPath("svg") {
      try writeSVG(course, definition: definition, to: path)
    }
  }

  struct ScheduledDose {
    var startHours: Double
    var milligrams: Double
    var infusionHours: Double
  }

  struct Course {
    var timesHours: [Double]
    var concentrations: [Double]
    var cumulativeAUC: [Double]
  }

  static func regimenDoses(
    _ parsed: ParsedOptions, hours: Double, stepHours: Double, definition: EnvironmentDefinition
  ) throws -> [ScheduledDose] {
    guard parsed.string("dose-mg") != nil else {
      throw CommandError.usage(
        "give --dose-mg (with --interval-hours and --infusion-hours) or --checkpoint; usage: \(usage)"
      )
    }
    let dose = try parsed.double("dose-mg", in: 0...10_000, unit: "mg")
    let loading = try parsed.optionalDouble("loading-dose-mg", in: 0...10_000, unit: "mg") ?? dose
    let interval = try parsed.double("interval-hours", in: 1...168, unit: "h")
    let infusion = try parsed.double("infusion-hours", in: 0.25...24, unit: "h")
    for (name, value) in [("interval-hours", interval), ("infusion-hours", infusion)] {
      let steps = value / stepHours
      guard abs(steps - steps.rounded()) < 1e-9 else {
        throw CommandError.usage(
          "--\(name) \(value) is not a multiple of the \(stepHours) h simulation step; round it to one"
        )
      }
    }
    guard infusion <= interval else {
      throw CommandError.usage(
        "--infusion-hours \(infusion) is longer than --interval-hours \(interval); infusions must not overlap"
      )
    }
    let limit = definition.dosing.maximumInfusionRateMilligramsPerMinute
    for milligrams in Set([dose, loading]) {
      let rate = milligrams / (infusion * 60)
      if rate > limit {
        printError(
          String(
            format:
              "titrate simulate: warning: %.0f mg over %g h is %.1f mg/min, above the %g mg/min limit; simulated as given (infuse over %.2f h or longer to respect it)",
            milligrams, infusion, rate, limit, milligrams / (limit * 60)))
      }
    }
    var doses: [ScheduledDose] = []
    var start = 0.0
    while start < hours {
      doses.append(
        ScheduledDose(
          startHours: start, milligrams: doses.isEmpty ? loading : dose, infusionHours: infusion))
      start += interval
    }
    return doses
  }

  /// Runs the checkpoint's policy on the patient through the environment,
  /// so doses pass the same actuator as in training and evaluation.
  static func policyDoses(
    _ policy: TrainedPolicy, definition: EnvironmentDefinition, patient: VirtualPatient,
    site: String?, population: String
  ) throws -> [ScheduledDose] {
    let siteName =
      site ?? policy.configuration.sites.first { $0.population == population }?.name
      ?? policy.configuration.sites[0].name
    guard let siteConfiguration = policy.configuration.sites.first(where: { $0.name == siteName })
    else {
      throw CommandError.usage(
        "--site \(siteName) is not a site of the checkpoint; sites: \(policy.configuration.sites.map(\.name).joined(separator: ", "))"
      )
    }

    let environment = try VancomycinEnvironment(
      definition: definition, populationName: siteConfiguration.population, batchSize: 1,
      actionMode: doseActionMode(for: policy.network.actionSpace))
    _ = environment.reset(seed: 0)
    try environment.setPatients([patient])
    let normalizer = try policy.observationNormalizer(site: siteName)

    var observations = environment.currentObservations()
    var generator = Xoshiro256(seed: 0)
    var doses: [ScheduledDose] = []
    let interval = definition.dosing.decisionIntervalHours
    for decision in 0..<Int((definition.dosing.episodeHours / interval).rounded()) {
      let input = normalizer?.normalize(observations) ?? observations
      let action = policy.network.actions(
        observations: input, count: 1, deterministic: true, generator: &generator)
      let result = environment.step(actions: action)
      let next = result.terminated[0] ? result.finalObservations : result.observations
      let delivered = Double(next[VancomycinObservation.previousDoseMilligrams])
      doses.append(
        ScheduledDose(
          startHours: Double(decision) * interval, milligrams: delivered,
          infusionHours: Double(definition.dosing.infusionSteps(doseMilligrams: delivered))
            * definition.dosing.simulationStepHours))
      observations = result.observations
    }
    return doses
  }

  static func simulateCourse(
    patient: VirtualPatient, doses: [ScheduledDose], hours: Double, stepHours: Double
  ) throws -> Course {
    let batch: PharmacokineticBatch
    do {
      batch = try PharmacokineticBatch(parameters: [patient.parameters], stepHours: stepHours)
    } catch {
      throw CommandError.failure("patient parameters are invalid: \(error)")
    }
    let steps = Int((hours / stepHours).rounded())
    var course = Course(timesHours: [0], concentrations: [0], cumulativeAUC: [0])
    for step in 0..<steps {
      let time = Double(step) * stepHours
      var rate = 0.0
      for dose in doses
      where time + 1e-9 >= dose.startHours && time + 1e-9 < dose.startHours + dose.infusionHours {
        rate += dose.milligrams / dose.infusionHours
      }
      batch.advance(infusionRatesMilligramsPerHour: [rate])
      course.timesHours.append(Double(step + 1) * stepHours)
      course.concentrations.append(batch.centralConcentrationsMilligramsPerLiter()[0])
      course.cumulativeAUC.append(batch.centralAUC()[0])
    }
    return course
  }

  static func printSummary(
    patient: VirtualPatient, doses: [ScheduledDose], course: Course,
    definition: EnvironmentDefinition
  ) {
    let parameters = patient.parameters
    print(
      String(
        format: "patient: %.0f y, %.0f kg, %@, SCr %.2f mg/dL, CrCl %.0f mL/min%@",
        patient.ageYears, patient.weightKilograms, patient.isFemale ? "female" : "male",
        patient.serumCreatinineMilligramsPerDeciliter,
        patient.creatinineClearanceMillilitersPerMinute,
        (patient.onHaemodialysis ? ", haemodialysis" : "")
          + (patient.inIntensiveCare ? ", intensive care" : "")))
    var model = String(
      format: "typical PK: CL %.2f L/h, V1 %.1f L", parameters.clearanceLitersPerHour,
      parameters.centralVolumeLiters)
    for (q, v) in zip(
      parameters.intercompartmentalClearancesLitersPerHour, parameters.peripheralVolumesLiters)
    {
      model += String(format: ", Q %.2f L/h, V2 %.1f L", q, v)
    }
    print(model)

    print("doses:")
    for dose in doses {
      print(
        String(
          format: "  %6.2f h  %6.0f mg over %.2f h", dose.startHours, dose.milligrams,
          dose.infusionHours))
    }

    let reward = definition.reward
    let stepsPerDay = Int((24 / (course.timesHours[1] - course.timesHours[0])).rounded())
    // Cmax and Cmin are over the grid points of each day including its
    // start, so day 1's Cmin is the 0 mg/L before the first dose.
    print("day   AUC24 (mg*h/L)   Cmax (mg/L)   Cmin (mg/L)   in 400-600")
    var day = 0
    while (day + 1) * stepsPerDay < course.timesHours.count {
      let range = (day * stepsPerDay)...((day + 1) * stepsPerDay)
      let auc = course.cumulativeAUC[range.upperBound] - course.cumulativeAUC[range.lowerBound]
      let window = course.concentrations[range]
      let inTarget =
        auc >= reward.dailyAUCLowerMilligramHoursPerLiter
        && auc <= reward.dailyAUCUpperMilligramHoursPerLiter
      print(
        String(
          format: "%3d   %14.1f   %11.2f   %11.2f   %@", day + 1, auc, window.max()!, window.min()!,
          inTarget ? "yes" : "no"))
      day += 1
    }

    var troughs: [String] = []
    for dose in doses.dropFirst() {
      let index = Int((dose.startHours / (course.timesHours[1])).rounded())
      if index < course.concentrations.count {
        troughs.append(String(format: "%.1f", course.concentrations[index]))
      }
    }
    if !troughs.isEmpty {
      print(
        "troughs before doses 2...: \(troughs.joined(separator: ", ")) mg/L (limit \(reward.troughLimitMilligramsPerLiter))"
      )
    }
  }

  static func writeCSV(_ course: Course, to path: String) throws {
    var lines = ["time_h,concentration_mg_per_l,cumulative_auc_mg_h_per_l"]
    for index in course.timesHours.indices {
      lines.append(
        String(
          format: "%.4f,%.6f,%.6f", course.timesHours[index], course.concentrations[index],
          course.cumulativeAUC[index]))
    }
    do {
      try (lines.joined(separator: "\n") + "\n").write(
        toFile: path, atomically: true, encoding: .utf8)
    } catch {
      throw CommandError.failure("cannot write \(path): \(error.localizedDescription)")
    }
  }

  static func writeSVG(_ course: Course, definition: EnvironmentDefinition, to path: String) throws
  {
    let reward = definition.reward
    var plot = SVGLinePlot(
      title: "Vancomycin concentration", xLabel: "time (h)", yLabel: "concentration (mg/L)")
    plot.series.append(
      .init(label: "central concentration", x: course.timesHours, y: course.concentrations))
    // An AUC24 of 400-600 mg*h/L is an average concentration of 16.7-25 mg/L.
    plot.bands.append(
      .init(
        label: "average concentration for AUC24 400-600 mg*h/L",
        lower: reward.dailyAUCLowerMilligramHoursPerLiter / 24,
        upper: reward.dailyAUCUpperMilligramHoursPerLiter / 24))
    plot.referenceLines.append(
      .init(
        label: "trough limit \(reward.troughLimitMilligramsPerLiter) mg/L",
        y: reward.troughLimitMilligramsPerLiter))
    do {
      try plot.render().write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
      throw CommandError.failure("cannot write \(path): \(error.localizedDescription)")
    }
  }
}
