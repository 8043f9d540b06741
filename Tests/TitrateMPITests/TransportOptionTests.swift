import Foundation
import Testing

/// `--transport` without a launcher: the option's values, the singleton
/// MPI job, and that a plain run never starts MPI.
@Suite(.serialized) struct TransportOptionTests {
  static let tinyTraining = [
    "train", "--sites", "2", "--rounds", "1", "--patients-per-site", "8", "--minibatch-size",
    "16", "--update-epochs", "1", "--hidden-sizes", "8,8", "--threads", "1", "--quiet",
  ]

  @Test func unknownTransportIsUsageError() throws {
    let run = try MPILaunch.titrate(["evaluate", "x.h5", "--transport", "zeromq"])

    #expect(run.status == 2)
    #expect(run.errors.contains("--transport 'zeromq' is not one of: in-process, mpi"))
  }

  @Test func singletonMatchesInProcess() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let reference = folder.appendingPathComponent("in-process.h5")
    let singleton = folder.appendingPathComponent("singleton.h5")

    let single = try MPILaunch.titrate(Self.tinyTraining + ["--output", reference.path])
    #expect(single.status == 0, "\(single.errors)")
    // Without mpirun, Open MPI starts a job of one rank, which hosts every
    // site.
    let alone = try MPILaunch.titrate(
      Self.tinyTraining + ["--output", singleton.path, "--transport", "mpi"])
    #expect(alone.status == 0, "\(alone.errors)")

    #expect(try MPILaunch.differingEntries(reference, singleton) == [])
  }

  @Test func plainRunNeverStartsMPI() throws {
    let folder = try MPILaunch.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // Naming a point-to-point layer that does not exist makes MPI_Init
    // fail, so any run that initialises MPI fails. The singleton run shows
    // that the setting takes effect.
    let brokenMPI = ["OMPI_MCA_pml": "nonexistent"]

    let plain = try MPILaunch.titrate(
      Self.tinyTraining + ["--output", folder.appendingPathComponent("a.h5").path],
      environment: brokenMPI)
    let singleton = try MPILaunch.titrate(
      Self.tinyTraining + [
        "--output", folder.appendingPathComponent("b.h5").path, "--transport", "mpi",
      ],
      environment: brokenMPI)

    #expect(plain.status == 0, "\(plain.errors)")
    #expect(singleton.status != 0)
    // Open MPI's own message on the failed MPI_Init varies from run to run,
    // so only the missing checkpoint is checked.
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("b.h5").path))
  }
}
