import Testing
import TitrateEnvironments

@Suite struct DoseActuatorTests {
  let limits = ActuatorLimits(
    doseIncrementMilligrams: 250, maximumSingleDoseMilligrams: 3000,
    maximumDosePer24HoursMilligrams: 6000)

  struct Case: Sendable, CustomTestStringConvertible {
    let request: Double
    let previous24Hours: Double
    let dose: Double
    let interventions: DoseInterventions
    var testDescription: String { "\(request) mg after \(previous24Hours) mg" }
  }

  // Hand-worked: increment 250 mg, single max 3000 mg, 24-h max 6000 mg.
  static let cases: [Case] = [
    Case(request: 1000, previous24Hours: 0, dose: 1000, interventions: []),
    Case(request: 1100, previous24Hours: 0, dose: 1000, interventions: .rounded),
    Case(request: 1125, previous24Hours: 0, dose: 1250, interventions: .rounded),
    Case(request: 124.9, previous24Hours: 0, dose: 0, interventions: .rounded),
    Case(request: 0, previous24Hours: 0, dose: 0, interventions: []),
    Case(request: 3000, previous24Hours: 0, dose: 3000, interventions: []),
    Case(request: 3001, previous24Hours: 0, dose: 3000, interventions: .clampedToSingleMaximum),
    Case(request: 1e30, previous24Hours: 0, dose: 3000, interventions: .clampedToSingleMaximum),
    Case(request: 3000, previous24Hours: 3000, dose: 3000, interventions: []),
    Case(request: 3000, previous24Hours: 4000, dose: 2000, interventions: .clampedToDailyMaximum),
    Case(request: 2900, previous24Hours: 4100, dose: 1750, interventions: [.rounded, .clampedToDailyMaximum]),
    Case(request: 5000, previous24Hours: 5000, dose: 1000, interventions: [.clampedToSingleMaximum, .clampedToDailyMaximum]),
    Case(request: 500, previous24Hours: 6000, dose: 0, interventions: .clampedToDailyMaximum),
    Case(request: -1, previous24Hours: 0, dose: 0, interventions: .negative),
    Case(request: -.infinity, previous24Hours: 0, dose: 0, interventions: .nonFinite),
    Case(request: .infinity, previous24Hours: 0, dose: 0, interventions: .nonFinite),
    Case(request: .nan, previous24Hours: 0, dose: 0, interventions: .nonFinite),
  ]

  @Test(arguments: cases) func limitsRequest(_ example: Case) {
    var actuator = DoseActuator(limits: limits)
    let result = actuator.deliver(
      requestedMilligrams: example.request, milligramsInPrevious24Hours: example.previous24Hours)
    #expect(result.doseMilligrams == example.dose)
    #expect(result.interventions == example.interventions)
    #expect(actuator.counts.requests == 1)
  }

  @Test func countsEveryInterventionByKind() {
    var actuator = DoseActuator(limits: limits)
    for example in Self.cases {
      _ = actuator.deliver(
        requestedMilligrams: example.request,
        milligramsInPrevious24Hours: example.previous24Hours)
    }
    let counts = actuator.counts
    #expect(counts.requests == Self.cases.count)
    #expect(counts.rounded == 4)
    #expect(counts.clampedToSingleMaximum == 3)
    #expect(counts.clampedToDailyMaximum == 4)
    #expect(counts.nonFinite == 3)
    #expect(counts.negative == 1)
    #expect(counts.total == 15)
    actuator.resetCounts()
    #expect(actuator.counts == DoseInterventionCounts())
  }

  @Test func limitedDoesNotCount() {
    let actuator = DoseActuator(limits: limits)
    let result = actuator.limited(Double.nan, milligramsInPrevious24Hours: 0)
    #expect(result.doseMilligrams == 0)
    #expect(actuator.counts.requests == 0)
  }

  @Test func deliveredDosesStayInBoundsForExtremeRequests() {
    var actuator = DoseActuator(limits: limits)
    let requests: [Double] = [
      -1e30, -0.0, 0.1, 125, 249.99, 2875, 2999.99, 1e308, .greatestFiniteMagnitude,
      .leastNonzeroMagnitude, Double(Float.greatestFiniteMagnitude),
    ]
    for request in requests {
      for previous in stride(from: 0.0, through: 6000, by: 250) {
        let dose = actuator.deliver(
          requestedMilligrams: request, milligramsInPrevious24Hours: previous
        ).doseMilligrams
        #expect(dose >= 0 && dose <= 3000, "request \(request) after \(previous) gave \(dose)")
        #expect(dose + previous <= 6000 || dose == 0)
        #expect(dose.truncatingRemainder(dividingBy: 250) == 0)
      }
    }
  }
}
