import Testing
@testable import TitrateSecureAggregation
import TitrateSodium
