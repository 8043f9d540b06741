import Dispatch
import TitrateEnvironments
import TitrateEvaluation
import TitrateMPI

extension EvaluateCommand {
  /// One batch of one site: the unit of work spread over MPI ranks.
  struct EvaluationUnit: Equatable {
    var site: Int
    var batch: Int
    var size: Int
  }

  /// Lists every site's batches, site by site, in batch order. Unit `u`
  /// runs on rank `u mod size`, so the work is spread round-robin and every
  /// unit is computed exactly as in the in-process run.
  static func evaluationUnits(siteCount: Int, patients: Int, batchSize: Int) -> [EvaluationUnit] {
    let sizes = evaluationBatchSizes(patientCount: patients, batchSize: batchSize)
    return (0..<siteCount).flatMap { site in
      sizes.enumerated().map { EvaluationUnit(site: site, batch: $0.offset, size: $0.element) }
    }
  }

  /// Evaluates this rank's share of the sites' batches and gathers every
  /// patient's outcomes at rank 0. Rank 0 returns them per site as
  /// `evaluateSitesInProcess` would, and other ranks return nil.
  ///
  /// Each batch is reset with the seed of its site and batch number, so
  /// the outcomes are the same bit for bit on any number of ranks.
  static func evaluateSitesOnRanks(
    _ policiesPerSite: [[EvaluatedPolicy]], patients: Int, batchSize: Int, seed: UInt64,
    threads: Int, world: MPICommunicator,
    makeEnvironment: @escaping @Sendable (Int, Int) throws -> any DosingEnvironment
  ) throws -> BatchResults? {
    let units = evaluationUnits(
      siteCount: policiesPerSite.count, patients: patients, batchSize: batchSize)
    let owned = units.indices.filter { $0 % world.size == world.rank }
    let results = BatchResults(batchCount: owned.count)
    let workerCount = max(1, min(threads, owned.count))
    DispatchQueue.concurrentPerform(iterations: workerCount) { worker in
      for slot in stride(from: worker, to: owned.count, by: workerCount) {
        let unit = units[owned[slot]]
        do {
          let environment = try makeEnvironment(unit.site, unit.size)
          let tables = try evaluateBatch(
            policiesPerSite[unit.site], batch: unit.batch,
            seed: siteSeed(seed, site: unit.site), environment: environment)
          results.store(.success(tables), at: slot)
        } catch {
          results.store(.failure(error), at: slot)
        }
      }
    }

    // Layout per unit: unit index, then per policy the row count, the
    // column count and the columns in the table's column order.
    var message: [Double] = []
    for (slot, unitIndex) in owned.enumerated() {
      let tables: [OutcomeTable]
      do {
        tables = try results.outcome(at: slot)!.get()
      } catch {
        let unit = units[unitIndex]
        throw CommandError.failure(
          "evaluation of site \(unit.site) batch \(unit.batch) failed on rank \(world.rank): "
            + "\(error)")
      }
      message.append(Double(unitIndex))
      for table in tables {
        message.append(Double(table.rowCount))
        message.append(Double(table.columnNames.count))
        for name in table.columnNames { message.append(contentsOf: table[column: name]!) }
      }
    }
    let gathered: [[Double]]
    do {
      gathered = try world.gather(message, root: 0)
    } catch {
      throw CommandError.failure("--transport mpi: \(error)")
    }
    guard world.isRoot else { return nil }

    // Rank 0 always owns unit 0, whose tables give each policy's columns.
    let columnNames = try results.outcome(at: 0)!.get().map(\.columnNames)
    var tablesByUnit: [[OutcomeTable]?] = Array(repeating: nil, count: units.count)
    for (rank, values) in gathered.enumerated() {
      var position = 0
      func next() throws -> Double {
        guard position < values.count else {
          throw CommandError.failure("--transport mpi: the outcomes from rank \(rank) are cut short")
        }
        defer { position += 1 }
        return values[position]
      }
      while position < values.count {
        let unitIndex = Int(try next())
        guard units.indices.contains(unitIndex), unitIndex % world.size == rank else {
          throw CommandError.failure(
            "--transport mpi: rank \(rank) sent outcomes for batch \(unitIndex), not its own")
        }
        var tables: [OutcomeTable] = []
        for names in columnNames {
          let rows = Int(try next())
          guard Int(try next()) == names.count, position + rows * names.count <= values.count
          else {
            throw CommandError.failure(
              "--transport mpi: the outcomes from rank \(rank) have a different column layout")
          }
          var table = OutcomeTable(columnNames: names)
          let start = position
          for row in 0..<rows {
            table.appendRow(names.indices.map { values[start + $0 * rows + row] })
          }
          position += rows * names.count
          tables.append(table)
        }
        tablesByUnit[unitIndex] = tables
      }
    }

    let siteResults = BatchResults(batchCount: policiesPerSite.count)
    for site in policiesPerSite.indices {
      var joined: [OutcomeTable]?
      for (unitIndex, unit) in units.enumerated() where unit.site == site {
        guard let tables = tablesByUnit[unitIndex] else {
          throw CommandError.failure(
            "--transport mpi: rank \(unitIndex % world.size) sent no outcomes for site "
              + "\(site) batch \(unit.batch)")
        }
        if joined == nil {
          joined = tables
        } else {
          for slot in tables.indices { joined![slot].append(contentsOf: tables[slot]) }
        }
      }
      siteResults.store(.success(joined!), at: site)
    }
    return siteResults
  }
}
