import Foundation
import Testing

@testable import TitrateEnvironments

/// A linear definition stored in a checkpoint finds the cohort file its run
/// trained on and rejects one whose SHA-256 differs.
@Suite struct LinearStoredCohortTests {
  static let header =
    "ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis\n"

  /// A training folder with `coh/cohort.csv` (one 100 kg patient) and a
  /// gentamicin definition naming it by a relative path.
  struct TrainingFolder {
    var folder: URL
    var definitionData: Data
    var cohortURL: URL { folder.appendingPathComponent("coh/cohort.csv") }

    init() throws {
      folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("linear-stored-cohort-\(UUID().uuidString)")
      try FileManager.default.createDirectory(
        at: folder.appendingPathComponent("coh"), withIntermediateDirectories: true)
      let tree = settingLinearValue(
        linearJSONTree(gentamicinDefinitionURL), ["population", "cohortFile"],
        to: "coh/cohort.csv")
      definitionData = try JSONSerialization.data(withJSONObject: tree)
      try definitionData.write(to: folder.appendingPathComponent("def.json"))
      try (LinearStoredCohortTests.header + "40,100,0,1.0,0\n").write(
        to: cohortURL, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// Returns the reference that training on `def.json` records.
    func trainedReference() throws -> CohortFileReference {
      try #require(
        try LinearDefinition.load(from: folder.appendingPathComponent("def.json"))
          .cohortReference)
    }
  }

  @Test func loadRecordsAbsolutePathAndHash() throws {
    let training = try TrainingFolder()
    defer { training.remove() }
    let definition = try LinearDefinition.load(
      from: training.folder.appendingPathComponent("def.json"))
    let reference = try #require(definition.cohortReference)
    #expect(reference.path == training.cohortURL.standardizedFileURL.path)
    #expect(reference.path.hasPrefix("/"))
    #expect(reference.sha256 == definition.cohort?.sha256)
  }

  @Test func storedPathWinsOverCheckpointFolder() throws {
    let training = try TrainingFolder()
    defer { training.remove() }
    let reference = try training.trainedReference()
    // The checkpoint sits in a folder without a cohort file.
    let elsewhere = FileManager.default.temporaryDirectory
    let stored = try LinearDefinition.decodeStored(
      from: training.definitionData, trainedCohort: reference, checkpointDirectory: elsewhere)
    #expect(stored.cohort?.rows.first?.weightKilograms == 100)
    #expect(stored.cohortReference == reference)
  }

  @Test func checkpointFolderIsTheFallback() throws {
    let training = try TrainingFolder()
    defer { training.remove() }
    var reference = try training.trainedReference()
    reference.path = "/nonexistent-\(UUID().uuidString)/coh/cohort.csv"
    let stored = try LinearDefinition.decodeStored(
      from: training.definitionData, trainedCohort: reference,
      checkpointDirectory: training.folder)
    #expect(stored.cohortReference?.path == training.cohortURL.standardizedFileURL.path)
  }

  @Test func changedCohortIsRejected() throws {
    let training = try TrainingFolder()
    defer { training.remove() }
    let reference = try training.trainedReference()
    try (Self.header + "40,60,0,1.0,0\n").write(
      to: training.cohortURL, atomically: true, encoding: .utf8)
    let changedSHA256 = try PatientCohort.load(from: training.cohortURL).sha256
    #expect(changedSHA256 != reference.sha256)

    var message = ""
    do {
      _ = try LinearDefinition.decodeStored(
        from: training.definitionData, trainedCohort: reference,
        checkpointDirectory: training.folder)
    } catch {
      #expect(error.issues.first?.path == "population.cohortFile")
      message = error.issues.first?.message ?? ""
    }
    #expect(message.contains(training.cohortURL.standardizedFileURL.path))
    #expect(message.contains(reference.sha256))
    #expect(message.contains(changedSHA256))
    #expect(message.contains("Restore the file the checkpoint was trained with"))
  }

  @Test func missingCohortNamesEveryPlaceLooked() throws {
    let training = try TrainingFolder()
    defer { training.remove() }
    let reference = try training.trainedReference()
    let checkpointFolder = FileManager.default.temporaryDirectory
      .appendingPathComponent("linear-no-cohort-\(UUID().uuidString)")
    try FileManager.default.removeItem(at: training.cohortURL)

    var message = ""
    do {
      _ = try LinearDefinition.decodeStored(
        from: training.definitionData, trainedCohort: reference,
        checkpointDirectory: checkpointFolder)
    } catch {
      message = error.issues.first?.message ?? ""
    }
    #expect(message.contains(reference.path))
    #expect(message.contains(checkpointFolder.appendingPathComponent("coh/cohort.csv").path))
    #expect(message.contains(reference.sha256))
  }

  /// Checkpoints written before the reference was stored have none, so
  /// their cohort is read relative to the checkpoint's folder, unchecked.
  @Test func checkpointWithoutReferenceStillLoads() throws {
    let training = try TrainingFolder()
    defer { training.remove() }
    let stored = try LinearDefinition.decodeStored(
      from: training.definitionData, trainedCohort: nil, checkpointDirectory: training.folder)
    #expect(stored.cohort?.rows.count == 1)
  }

  @Test func definitionWithoutCohortIsUnchanged() throws {
    let data = try Data(contentsOf: gentamicinDefinitionURL)
    let stored = try LinearDefinition.decodeStored(
      from: data, trainedCohort: nil, checkpointDirectory: nil)
    #expect(stored == (try LinearDefinition.decode(from: data)))
    #expect(stored.cohortReference == nil)
  }
}
