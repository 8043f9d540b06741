import Foundation
import TitrateEnvironments
import TitrateFederation
import TitratePKPD

/// `titrate simulate`: one patient's concentration-time course under a
/// fixed regimen or a checkpoint's policy.
enum SimulateCommand {
  static let usage =
    "titrate simulate (--dose-mg MG --interval-hours H --infusion-hours H | --environment NAME [--baseline NAME] | --checkpoint FILE) [covariates] [--csv FILE] [--svg FILE]"

  static let options: [OptionSpecification] = [
    .init(
      name: "environment", valueName: "NAME|FILE",
      help:
        "environment for the patient model; not with --checkpoint, which uses the environment stored in the checkpoint",
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
      name: "interval-hours", valueName: "H",
      help: "dosing interval, 1-168 h, a multiple of the simulation step (q12h: 12)",
      defaultValue: "12"),
    .init(
      name: "infusion-hours", valueName: "H",
      help: "infusion duration of each dose, 0.25-24 h, a multiple of the simulation step",
      defaultValue: "1"),
    .init(
      name: "checkpoint", valueName: "FILE",
      help: "dose with this checkpoint's learned policy instead of a fixed regimen",
      defaultValue: nil),
    .init(
      name: "site", valueName: "NAME",
      help:
        "with --checkpoint only: site whose measurement error and (per-site normalisation) observation statistics to use; the patient keeps the PK model of --population; default: the first site of --population, else the first site",
      defaultValue: nil),
    .init(
      name: "hours", valueName: "H",
      help:
        "simulated time, 1-2000 h, a multiple of the simulation step (0.25 h in the shipped vancomycin file)",
      defaultValue: "72"),
    .init(
      name: "baseline", valueName: "NAME",
      help:
        "warfarin, propofol, glucose and linear kinds: baseline policy that doses (default: the kind's first)",
      defaultValue: nil),
    .init(
      name: "noise-seed", valueName: "N",
      help:
        "warfarin, propofol, glucose and linear kinds: turn measurement noise on with this seed; warfarin, propofol and glucose also draw the patient with it (default: off, and the patient of seed 0)",
      defaultValue: nil),
    .init(
      name: "csv", valueName: "FILE",
      help: "write the concentration-time course (other kinds: one row per decision) as CSV",
      defaultValue: nil),
    .init(
      name: "svg", valueName: "FILE",
      help: "write a plot of the course with the target window (vancomycin only)",
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
      let regimenOptions = [
        "dose-mg", "loading-dose-mg", "interval-hours", "infusion-hours", "environment",
      ]
      if let conflicting = regimenOptions.first(where: { parsed.explicitOptions.contains($0) }) {
        throw CommandError.usage(
          "--\(conflicting) cannot be combined with --checkpoint: the checkpoint's policy chooses the doses on the checkpoint's environment"
        )
      }
      try checkOutputPaths(parsed, inputs: [("checkpoint", path)])
      let policy = try loadTrainedPolicy(try readCheckpoint(path), path: path)
      if let environment = try PKPDEnvironment.decodeStored(
        policy.environment, checkpointPath: path)
      {
        try PKPDSimulate.run(parsed, environment: environment, trained: policy)
        return
      }
      definition = try decodeCheckedDefinition(of: policy)
      trained = policy
    } else {
      let catalog = try EnvironmentCatalog(explicitDirectory: parsed.string("environments-dir"))
      let name = try parsed.requiredString("environment")
      try checkOutputPaths(parsed, inputs: [("environment", catalog.url(for: name).path)])
      if let (environment, _) = try PKPDEnvironment.load(catalog, name) {
        try PKPDSimulate.run(parsed, environment: environment, trained: nil)
        return
      }
      definition = try catalog.load(name).0
      if parsed.explicitOptions.contains("site") {
        throw CommandError.usage(
          "--site applies only with --checkpoint, where it chooses the site whose measurement error and observation statistics the policy sees; a fixed regimen has neither, so remove --site (--population chooses the patient's PK model)"
        )
      }
      if parsed.explicitOptions.contains("intensive-care") {
        throw CommandError.usage(
          "--intensive-care is an input of a checkpoint's policy, and no PK model of this environment uses it, so it changes nothing in a fixed regimen; remove it or give --checkpoint"
        )
      }
    }
    for option in ["baseline", "noise-seed"] where parsed.explicitOptions.contains(option) {
      throw CommandError.usage(
        "--\(option) does not apply to vancomycin; give --dose-mg or --checkpoint instead")
    }
    let stepHours = definition.dosing.simulationStepHours
    try checkOnGrid("hours", hours, stepHours: stepHours, range: 1...2000)
    let patientPopulation = try parsed.requiredString("population")
    let patient: VirtualPatient
    do {
      patient = try definition.typicalPatient(
        populationName: patientPopulation,
        ageYears: try parsed.double("age", in: 18...120, unit: "years"),
        weightKilograms: try parsed.double("weight", in: 20...400, unit: "kg"),
        isFemale: try parsed.choice("sex", from: ["male", "female"]) == "female",
        serumCreatinineMilligramsPerDeciliter: try parsed.double(
          "creatinine", in: 0.1...20, unit: "mg/dL"),
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
        "titrate simulate: warning: model \(population.model) has no haemodialysis effect, so --haemodialysis does not change this patient; use a population whose model has one (goti2018)"
      )
    }
    var doses: [ScheduledDose]
    if let trained {
      doses = try policyDoses(
        trained, definition: definition, patient: patient, site: parsed.string("site"),
        population: patientPopulation)
    } else {
      doses = try regimenDoses(parsed, hours: hours, stepHours: stepHours, definition: definition)
    }
    doses = doses.filter { $0.startHours < hours }
    let course = try simulateCourse(
      patient: patient, doses: doses, hours: hours, stepHours: stepHours)
    printSummary(
      patient: patient, population: patientPopulation, doses: doses, course: course,
      definition: definition)
    if trained != nil && hours > definition.dosing.episodeHours {
      printError(
        "titrate simulate: note: the policy doses during its \(formatNumber(definition.dosing.episodeHours))-h episode only; later hours show the washout"
      )
    }
    if hours < 24 {
      printError(
        "titrate simulate: note: --hours \(formatNumber(hours)) is under 24 h, so no day's AUC24 is complete"
      )
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
}
