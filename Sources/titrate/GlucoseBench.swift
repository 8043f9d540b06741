import Foundation
import TitrateEnvironments

/// `titrate bench --environment glucose.json`: the glucose environment's
/// step rate with the basal-bolus baseline's actions, one thread, per
/// batch size, for comparison with simglucose's single-patient step rate
/// (`python3 scripts/reference_glucose.py --bench N`).
enum GlucoseBench {
  /// Runs the measurement when `nameOrPath` is a glucose definition and
  /// returns true; returns false for other environments.
  static func runIfGlucose(
    _ catalog: EnvironmentCatalog, nameOrPath: String, sizes: [Int], repeats: Int, json: Bool
  ) throws -> Bool {
    guard let (environment, _) = try PKPDEnvironment.load(catalog, nameOrPath),
      case .glucose(let definition) = environment
    else { return false }
    if !json {
      print(
        "glucose environment: 3-min steps with the basal-bolus baseline's actions, 1 thread, "
          + "median of \(repeats) timed runs of one simulated hour after a warm-up hour")
    }
    for size in sizes {
      let seconds = try medianStepSeconds(
        definition: definition, batchSize: size, repeats: repeats)
      let patientSteps = Double(size) / seconds
      if json {
        print(
          "{\"benchmark\":\"glucose_step\",\"patients\":\(size),"
            + "\"patient_steps_per_second\":\(patientSteps),\"batch_step_seconds\":\(seconds)}")
      } else {
        print(
          String(
            format: "  batch %8d: %.3g patient-steps/s (%.3g ms per batch step)", size,
            patientSteps, seconds * 1000))
      }
    }
    return true
  }

  /// Returns the median time of one batch step, s, over `repeats` runs of
  /// 20 steps (one simulated hour) after 20 warm-up steps.
  static func medianStepSeconds(definition: GlucoseDefinition, batchSize: Int, repeats: Int)
    throws -> Double
  {
    let environment = try GlucoseEnvironment(
      definition: definition, group: nil, batchSize: batchSize)
    environment.automaticallyResets = false
    let actions = try environment.baselineActions(named: "basal_bolus")
    for _ in 0..<20 { _ = environment.step(actions: actions) }
    var times: [Double] = []
    for _ in 0..<repeats {
      if environment.decision + 20 > environment.episodeDecisions {
        _ = environment.reset(seed: 1)
      }
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<20 { _ = environment.step(actions: actions) }
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      times.append(elapsed / 20)
    }
    return times.sorted()[times.count / 2]
  }
}
