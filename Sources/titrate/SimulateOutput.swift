import Foundation
import TitrateEnvironments
import TitrateEvaluation

/// The files `titrate simulate` writes: their checks before the run,
/// the course as CSV and its plot as SVG.
extension SimulateCommand {
  /// Checks `--csv` and `--svg` before any work starts: each names a file
  /// (not a folder) in an existing folder, the two are different files,
  /// and neither is one of `inputs` (option name and path).
  static func checkOutputPaths(_ parsed: ParsedOptions, inputs: [(String, String)]) throws {
    var checked: [(option: String, path: String, resolved: String)] = []
    for option in ["csv", "svg"] {
      guard let path = try parsed.outputPath(option) else { continue }
      let resolved = resolvedFilePath(path)
      for earlier in checked where earlier.resolved == resolved {
        throw CommandError.usage(
          "--\(earlier.option) \(earlier.path) and --\(option) \(path) name the same file \(resolved); give two different files"
        )
      }
      for (input, inputPath) in inputs where resolvedFilePath(inputPath) == resolved {
        throw CommandError.usage(
          "--\(option) \(path) is the --\(input) file \(resolved), which writing would overwrite; give another file"
        )
      }
      checked.append((option, path, resolved))
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
