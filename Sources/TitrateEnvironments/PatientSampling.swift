import TitrateRandom

/// A source of virtual patients that draws each one from a seeded stream.
///
/// The vancomycin, linear-kind, warfarin and propofol environments start
/// every batch of episodes the same way: one patient per slot, in slot
/// order, from the environment's patient stream. Conforming samplers get
/// that loop from `samplePatients(count:using:)`.
protocol PatientSampling {
  associatedtype Patient
  /// Draws one patient from `generator`.
  func samplePatient(using generator: inout Xoshiro256) -> Patient
}

extension PatientSampling {
  /// Draws `count` patients in order, as `count` calls of `samplePatient`.
  func samplePatients(count: Int, using generator: inout Xoshiro256) -> [Patient] {
    var patients: [Patient] = []
    patients.reserveCapacity(count)
    for _ in 0..<count {
      patients.append(samplePatient(using: &generator))
    }
    return patients
  }
}

extension PatientSampler: PatientSampling {}
extension LinearPatientSampler: PatientSampling {}
extension WarfarinPatientSampler: PatientSampling {}
extension PropofolPatientSampler: PatientSampling {}
