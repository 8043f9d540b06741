import Foundation
import Testing

/// A linear-kind checkpoint trained with a relative `cohortFile` evaluates
/// from any folder, and a cohort file changed after training is rejected.
extension CommandLineTests {
  @Test func linearCohortCheckpointLoadsAnywhere() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // The tests run in the repository root, not in the definition's folder.
    let checkpoint = try trainLinearCohortCheckpoint(in: folder)

    let evaluate = try titrate(["evaluate", checkpoint, "--patients", "8"])
    #expect(evaluate.status == 0, "\(evaluate.errors)")
    let inspect = try titrate(["inspect", checkpoint])
    let cohort = folder.appendingPathComponent("coh/good.csv").standardizedFileURL.path
    #expect(inspect.output.contains("  cohort file \(cohort), sha256 "), "\(inspect.output)")
    let verify = try titrate(["verify", checkpoint, "--patients", "8"])
    #expect(verify.status == 0 || verify.status == 4, "\(verify.errors)")
    let simulate = try titrate(["simulate", "--checkpoint", checkpoint])
    #expect(simulate.status == 0, "\(simulate.errors)")
    let resumed = folder.appendingPathComponent("resumed.h5").path
    let resume = try titrate([
      "train", "--resume", checkpoint, "--output", resumed, "--quiet",
    ])
    #expect(resume.status == 0, "\(resume.errors)")
    // The resumed checkpoint keeps the cohort's path and hash.
    let resumedBytes = try Data(contentsOf: URL(fileURLWithPath: resumed))
    #expect(String(decoding: resumedBytes, as: UTF8.self).contains("cohort_sha256"))
  }

  @Test func linearCohortChangedAfterTrainingIsRejected() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = try trainLinearCohortCheckpoint(in: folder)
    let cohort = folder.appendingPathComponent("coh/good.csv")
    let handle = try FileHandle(forWritingTo: cohort)
    handle.seekToEndOfFile()
    handle.write(Data("33,60,1,0.9,0\n".utf8))
    try handle.close()

    for arguments in [
      ["evaluate", checkpoint, "--patients", "8"], ["verify", checkpoint, "--patients", "8"],
      ["simulate", "--checkpoint", checkpoint],
    ] {
      let run = try titrate(arguments)
      #expect(run.status == 3, "\(arguments[0]): \(run.errors)")
      #expect(
        run.errors.contains("names cohort \(cohort.standardizedFileURL.path)"), "\(run.errors)")
      #expect(run.errors.contains("Restore the file the checkpoint was trained with"))
    }
  }

  /// Trains one of two rounds on `writeLinearDefinitionWithCohort`'s
  /// definition, so the run can resume, and returns the checkpoint's path.
  func trainLinearCohortCheckpoint(in folder: URL) throws -> String {
    let definition = try writeLinearDefinitionWithCohort(in: folder)
    let checkpoint = folder.appendingPathComponent("def.h5").path
    let train = try titrate([
      "train", "--environment", definition.path, "--sites", "1", "--patients-per-site", "8",
      "--rounds", "2", "--pause-after", "1", "--output", checkpoint, "--quiet",
    ])
    #expect(train.status == 0, "\(train.errors)")
    return checkpoint
  }

  /// Writes a gentamicin copy whose population names `coh/good.csv`, and
  /// that cohort, into `folder`; returns the definition's URL.
  func writeLinearDefinitionWithCohort(in folder: URL) throws -> URL {
    let source = Self.repositoryRoot.appendingPathComponent("Environments/pkpd/gentamicin.json")
    var tree = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as! [String: Any]
    var population = tree["population"] as! [String: Any]
    population["cohortFile"] = "coh/good.csv"
    tree["population"] = population
    let definition = folder.appendingPathComponent("def.json")
    try JSONSerialization.data(withJSONObject: tree).write(to: definition)
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("coh"), withIntermediateDirectories: true)
    try """
    ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis
    60,70,0,1.0,0
    45,90,1,0.8,0
    80,55,1,1.6,0

    """.write(
      to: folder.appendingPathComponent("coh/good.csv"), atomically: true, encoding: .utf8)
    return definition
  }
}
