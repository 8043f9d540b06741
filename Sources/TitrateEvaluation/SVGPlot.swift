import Foundation

/// A minimal line chart written as standalone SVG 1.1: one or more series
/// over a shared x axis, optional horizontal bands (a target window) and
/// horizontal reference lines (a toxicity threshold), with axis ticks.
public struct SVGLinePlot {
  public struct Series {
    public var label: String
    public var x: [Double]
    public var y: [Double]
    public var color: String

    public init(label: String, x: [Double], y: [Double], color: String = "#1f77b4") {
      precondition(x.count == y.count, "series '\(label)' has \(x.count) x and \(y.count) y values")
      self.label = label
      self.x = x
      self.y = y
      self.color = color
    }
  }

  public struct Band {
    public var label: String
    public var lower: Double
    public var upper: Double
    public var color: String

    public init(label: String, lower: Double, upper: Double, color: String = "#2ca02c") {
      self.label = label
      self.lower = lower
      self.upper = upper
      self.color = color
    }
  }

  public struct ReferenceLine {
    public var label: String
    public var y: Double
    public var color: String

    public init(label: String, y: Double, color: String = "#d62728") {
      self.label = label
      self.y = y
      self.color = color
    }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series] = []
  public var bands: [Band] = []
  public var referenceLines: [ReferenceLine] = []
  public var width = 800.0
  public var height = 450.0

  public init(title: String, xLabel: String, yLabel: String) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
  }

  /// Renders the chart as an SVG document.
  public func render() -> String {
    let left = 70.0
    let right = 20.0
    let top = 40.0
    let bottom = 55.0
    let plotWidth = width - left - right
    let plotHeight = height - top - bottom

    let allX = series.flatMap(\.x).filter(\.isFinite)
    var allY = series.flatMap(\.y).filter(\.isFinite)
    allY += bands.flatMap { [$0.lower, $0.upper] } + referenceLines.map(\.y)
    let xMinimum = allX.min() ?? 0
    let xMaximum = max(allX.max() ?? 1, xMinimum + 1e-9)
    let yMinimum = min(0, allY.min() ?? 0)
    let yMaximum = max((allY.max() ?? 1) * 1.05, yMinimum + 1e-9)

    func px(_ x: Double) -> Double { left + (x - xMinimum) / (xMaximum - xMinimum) * plotWidth }
    func py(_ y: Double) -> Double {
      top + (1 - (y - yMinimum) / (yMaximum - yMinimum)) * plotHeight
    }
    func format(_ value: Double) -> String { String(format: "%.1f", value) }

    var svg: [String] = [
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(format(width))\" height=\"\(format(height))\" viewBox=\"0 0 \(format(width)) \(format(height))\" font-family=\"sans-serif\" font-size=\"12\">",
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
      "<text x=\"\(format(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>",
    ]
    for band in bands {
      let upper = py(min(band.upper, yMaximum))
      let lower = py(max(band.lower, yMinimum))
      svg.append(
        "<rect x=\"\(format(left))\" y=\"\(format(upper))\" width=\"\(format(plotWidth))\" height=\"\(format(max(0, lower - upper)))\" fill=\"\(band.color)\" fill-opacity=\"0.15\"><title>\(escape(band.label))</title></rect>"
      )
    }
    for line in referenceLines {
      svg.append(
        "<line x1=\"\(format(left))\" x2=\"\(format(left + plotWidth))\" y1=\"\(format(py(line.y)))\" y2=\"\(format(py(line.y)))\" stroke=\"\(line.color)\" stroke-dasharray=\"6 4\"/>"
      )
      svg.append(
        "<text x=\"\(format(left + plotWidth - 4))\" y=\"\(format(py(line.y) - 4))\" text-anchor=\"end\" fill=\"\(line.color)\">\(escape(line.label))</text>"
      )
    }
    // Axes and ticks: five intervals on each axis.
    svg.append(
      "<rect x=\"\(format(left))\" y=\"\(format(top))\" width=\"\(format(plotWidth))\" height=\"\(format(plotHeight))\" fill=\"none\" stroke=\"black\"/>"
    )
    for tick in 0...5 {
      let xValue = xMinimum + (xMaximum - xMinimum) * Double(tick) / 5
      let yValue = yMinimum + (yMaximum - yMinimum) * Double(tick) / 5
      svg.append(
        "<text x=\"\(format(px(xValue)))\" y=\"\(format(top + plotHeight + 18))\" text-anchor=\"middle\">\(format(xValue))</text>"
      )
      svg.append(
        "<text x=\"\(format(left - 6))\" y=\"\(format(py(yValue) + 4))\" text-anchor=\"end\">\(format(yValue))</text>"
      )
    }
    svg.append(
      "<text x=\"\(format(left + plotWidth / 2))\" y=\"\(format(height - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
    )
    svg.append(
      "<text x=\"16\" y=\"\(format(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(format(top + plotHeight / 2)))\">\(escape(yLabel))</text>"
    )
    for (index, item) in series.enumerated() {
      let points = zip(item.x, item.y).filter { $0.0.isFinite && $0.1.isFinite }
        .map { "\(format(px($0.0))),\(format(py($0.1)))" }.joined(separator: " ")
      svg.append(
        "<polyline fill=\"none\" stroke=\"\(item.color)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
      )
      svg.append(
        "<text x=\"\(format(left + 8))\" y=\"\(format(top + 16 + 15 * Double(index)))\" fill=\"\(item.color)\">\(escape(item.label))</text>"
      )
    }
    svg.append("</svg>")
    return svg.joined(separator: "\n") + "\n"
  }

  private func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
