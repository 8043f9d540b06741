import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

@testable import TitrateEvaluation

@Suite struct SVGPlotTests {
  func samplePlot() -> SVGLinePlot {
    var plot = SVGLinePlot(
      title: "Vancomycin <1250 mg> & more", xLabel: "time (h)", yLabel: "concentration (mg/L)")
    plot.series.append(.init(label: "patient 1", x: [0, 12, 24], y: [0, 30, 10]))
    plot.series.append(.init(label: "patient 2", x: [0, 12, 24], y: [5, 15, 25]))
    plot.bands.append(.init(label: "target", lower: 16.7, upper: 25))
    plot.referenceLines.append(.init(label: "trough limit 20 mg/L", y: 20))
    return plot
  }

  @Test func rendersWellFormedXML() throws {
    let document = try XMLDocument(xmlString: samplePlot().render())
    #expect(document.rootElement()?.name == "svg")
    #expect(try document.nodes(forXPath: "//*[local-name()='polyline']").count == 2)
    #expect(try document.nodes(forXPath: "//*[local-name()='line']").count == 1)
  }

  @Test func escapesTitleText() {
    let svg = samplePlot().render()
    #expect(svg.contains("Vancomycin &lt;1250 mg&gt; &amp; more"))
  }

  @Test func mapsExtremesToPlotCorners() {
    // x spans 0...24 over the 710-pixel plot area starting at 70 px, so the
    // last point of each series sits at x = 780.
    let svg = samplePlot().render()
    #expect(svg.contains("780.0,"))
    #expect(svg.contains("points=\"70.0,"))
  }
}
