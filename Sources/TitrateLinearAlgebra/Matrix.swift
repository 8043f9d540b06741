/// A dense row-major matrix of `Float`: element `(row, column)` sits at
/// `values[row * columns + column]`.
///
/// Networks keep one sample per row (batch x features), so a whole batch is
/// one contiguous block that `matrixProduct` hands to BLAS without copying.
public struct Matrix: Sendable, Equatable {
  /// Number of rows (for activations: the batch size), at least 0.
  public private(set) var rows: Int
  /// Number of columns (for activations: the feature count), at least 0.
  public private(set) var columns: Int
  /// The `rows * columns` elements in row-major order.
  public var values: [Float]

  /// Creates a `rows x columns` matrix filled with `value`.
  public init(rows: Int, columns: Int, repeating value: Float = 0) {
    precondition(rows >= 0 && columns >= 0, "matrix shape \(rows)x\(columns) is negative")
    self.rows = rows
    self.columns = columns
    self.values = [Float](repeating: value, count: rows * columns)
  }

  /// Creates a matrix over existing row-major `values`.
  /// - Precondition: `values.count == rows * columns`.
  public init(rows: Int, columns: Int, values: [Float]) {
    precondition(
      rows >= 0 && columns >= 0 && values.count == rows * columns,
      "matrix \(rows)x\(columns) needs \(rows * columns) values, got \(values.count)")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// Reads or writes element `(row, column)`.
  @inlinable
  public subscript(row: Int, column: Int) -> Float {
    get { values[row * columns + column] }
    set { values[row * columns + column] = newValue }
  }

  /// Changes the shape to `rows x columns`, keeping the storage when the
  /// element count is unchanged so that per-minibatch buffers are reused.
  /// Element values are unspecified afterwards unless the count is unchanged.
  public mutating func reshape(rows: Int, columns: Int) {
    precondition(rows >= 0 && columns >= 0, "matrix shape \(rows)x\(columns) is negative")
    if rows * columns != values.count {
      values = [Float](repeating: 0, count: rows * columns)
    }
    self.rows = rows
    self.columns = columns
  }

  /// Returns the transpose as a new matrix (for tests and interop; the
  /// hot paths pass transpose flags to `matrixProduct` instead).
  public func transposed() -> Matrix {
    var result = Matrix(rows: columns, columns: rows)
    for row in 0..<rows {
      for column in 0..<columns {
        result.values[column * rows + row] = values[row * columns + column]
      }
    }
    return result
  }
}
