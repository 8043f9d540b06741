// Read-only access to the current observations and delivered doses of the
// warfarin, propofol and glucose environments, for safety verification
// and `titrate simulate`. Nothing here changes an environment's state.

extension WarfarinEnvironment {
  /// Returns the observation rows of the current state, row-major
  /// (`batchSize x WarfarinObservation.count`), as `reset` and `step`
  /// return them; use it after `setPatients`.
  public func currentObservations() -> [Float] { observations() }
}

extension PropofolEnvironment {
  /// Returns the observation rows of the current state, row-major
  /// (`batchSize x PropofolObservation.count`); use it after
  /// `setPatients`.
  public func currentObservations() -> [Float] { observations() }
}

extension GlucoseEnvironment {
  /// Returns the observation rows of the current state, row-major
  /// (`batchSize x GlucoseObservation.count`).
  public func currentObservations() -> [Float] { observations() }

  /// The basal rate the pump delivered in the last step of every patient,
  /// U/h, after rounding to the pump's increment and its maximum (0 before
  /// the first step of the environment).
  public var lastDeliveredBasalUnitsPerHour: [Double] {
    buffers.basalUnitsPerMinute.map { $0 * 60 }
  }

  /// The bolus the pump delivered in the last step of every patient, U,
  /// after rounding and its maximum (0 before the first step).
  public var lastDeliveredBolusUnits: [Double] { Array(buffers.bolusUnits) }

  /// The latest CGM reading of every patient, mg/dL.
  public var latestCGMMilligramsPerDeciliter: [Double] {
    (0..<batchSize).map { records.cgm(patient: $0, stepsAgo: 0) }
  }
}
