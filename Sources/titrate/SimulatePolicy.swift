import Foundation
import TitrateEnvironments
import TitrateFederation
import TitrateRandom

extension SimulateCommand {
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
      definition: siteDefinition(
        definition, site: siteName, sitePopulation: siteConfiguration.population,
        patientPopulation: population),
      populationName: siteConfiguration.population, batchSize: 1,
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

  /// Returns a definition in which the site population takes the patient
  /// population's model, so that the site's environment accepts the
  /// patient. `--population` sets the patient's PK model, and `--site`
  /// the measurement error and observation statistics. The model copy
  /// takes the residual error of the site's own model and the population
  /// keeps its `measurementError`, so levels carry the site's error. The
  /// MAP prior, its error model, the site's name and its random streams
  /// stay as they were.
  static func siteDefinition(
    _ definition: EnvironmentDefinition, site: String, sitePopulation: String,
    patientPopulation: String
  ) -> EnvironmentDefinition {
    // An unknown population is left to the environment, which names it.
    guard let siteModelName = definition.populations[sitePopulation]?.model,
      let patientModelName = definition.populations[patientPopulation]?.model,
      siteModelName != patientModelName
    else { return definition }
    printError(
      "titrate simulate: note: the patient follows model \(patientModelName) of population \(patientPopulation); the policy sees its levels with the measurement error of site \(site) (model \(siteModelName))"
    )
    var model = definition.models[patientModelName]!
    model.residualError = definition.models[siteModelName]!.residualError
    var adapted = definition
    var key = "\(patientModelName) measured as at site \(site)"
    while adapted.models[key] != nil { key += "'" }
    adapted.models[key] = model
    adapted.populations[sitePopulation]!.model = key
    return adapted
  }
}
