import Foundation
import Testing

@testable import TitratePKPD

/// The Laplace spread around the MAP estimate that the predictive shield
/// uses; its calibration against simulated patients is in the environment
/// tests.
@Suite struct MAPPosteriorTests {
  @Test func inverseOfHandWorkedMatrix() {
    // [[4, 2], [2, 3]] has determinant 8 and inverse [[3, -2], [-2, 4]] / 8.
    let inverse = MAPParameterEstimator.inverseOfSymmetricPositiveDefinite(
      [4, 2, 2, 3], dimension: 2)
    let expected = [0.375, -0.25, -0.25, 0.5]
    for (value, want) in zip(inverse, expected) { #expect(abs(value - want) < 1e-15) }
  }

  @Test func withoutLevelsSpreadIsThePrior() throws {
    let variability = try LogNormalVariability(
      omegaSquared: [0.04, 0.09],
      correlations: [EtaCorrelation(first: 0, second: 1, coefficient: 0.5)])
    let estimator = try MAPParameterEstimator(
      patientCount: 1, peripheralCount: 0, variability: variability,
      residualError: MAPParameterEstimatorTests.residualError, maximumInfusionCount: 2,
      maximumLevelCount: 2)
    let (free, covariance) = estimator.posteriorCovariance(patient: 0)
    #expect(free == [0, 1])
    let expected = [0.04, 0.03, 0.03, 0.09]
    for (value, want) in zip(covariance, expected) { #expect(abs(value - want) < 1e-12) }
  }

  @Test func levelsShrinkTheSpread() throws {
    let estimator = try MAPParameterEstimatorTests.twoCompartmentEstimator()
    let (free, prior) = estimator.posteriorCovariance(patient: 0)
    // Q has no variability, so three etas are free: CL, V1, V2.
    #expect(free == [0, 1, 3])
    MAPParameterEstimatorTests.dose(estimator, patient: 0)
    for time in [1.5, 11.5, 23.5, 35.5] {
      estimator.addLevel(patient: 0, timeHours: time, concentrationMilligramsPerLiter: 15)
    }
    estimator.update()
    let (_, posterior) = estimator.posteriorCovariance(patient: 0)
    // Diagonal entries 0 (CL) and 4 (V1) of the 3 x 3 matrices.
    #expect(posterior[0] < 0.5 * prior[0], "CL variance \(posterior[0]) against \(prior[0])")
    #expect(posterior[4] < prior[4], "V1 variance \(posterior[4]) against \(prior[4])")
  }

  /// For a quantity linear in the etas, a^T eta, the pessimistic point
  /// raises it by exactly z sqrt(a^T Sigma a).
  @Test func pessimisticPointOfLinearQuantity() throws {
    let estimator = try MAPParameterEstimatorTests.twoCompartmentEstimator()
    MAPParameterEstimatorTests.dose(estimator, patient: 0)
    for time in [11.5, 23.5] {
      estimator.addLevel(patient: 0, timeHours: time, concentrationMilligramsPerLiter: 12)
    }
    estimator.update()
    let weights = [-1.0, 0.5, 7.0, 0.25]  // the Q weight is ignored: Q is fixed
    func quantity(_ etas: [Double]) -> Double { zip(weights, etas).map(*).reduce(0, +) }
    let estimate = estimator.estimatedEtas(patient: 0)
    let (free, covariance) = estimator.posteriorCovariance(patient: 0)
    let a = free.map { weights[$0] }
    var variance = 0.0
    for i in 0..<a.count {
      for j in 0..<a.count { variance += a[i] * covariance[i * a.count + j] * a[j] }
    }
    let z = 1.645
    let pessimistic = estimator.pessimisticEtas(
      patient: 0, standardDeviations: z, quantity: quantity)
    #expect(pessimistic[2] == estimate[2])
    let raised = quantity(pessimistic) - quantity(estimate)
    #expect(abs(raised - z * variance.squareRoot()) < 1e-6 * z * variance.squareRoot())
  }
}
