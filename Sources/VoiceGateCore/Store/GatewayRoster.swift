import Foundation
import Synchronization

/// The gateways sharing this store as the last sync round read them, for the console (which draws many times a
/// second and must not ask the database each time).
public final class GatewayRoster: Sendable {
    private let state = Mutex<[GatewayPresence]>([])

    public init() {}

    public var gateways: [GatewayPresence] { state.withLock { $0 } }

    func replace(_ gateways: [GatewayPresence]) { state.withLock { $0 = gateways } }
}
