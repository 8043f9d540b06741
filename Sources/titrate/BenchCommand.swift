enum BenchCommand { static func run(_ arguments: [String]) throws { throw CommandError.failure("not yet built") } }
