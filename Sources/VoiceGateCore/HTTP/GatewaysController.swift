import Foundation
import Hummingbird

/// `GET {prefix}/gateways` (admin): every gateway sharing the store, read from it now.
struct GatewaysController {
    let store: any GatewayStore
    /// This gateway's name, to mark it in the list.
    let name: String

    struct GatewayJSON: Encodable {
        let name: String
        let address: String
        let version: String
        let started_at: String
        let last_seen: String
        let alive: Bool
        let this: Bool
        let in_flight: Int
        let waiting: Int
    }

    struct GatewayList: ResponseEncodable {
        let gateways: [GatewayJSON]
    }

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.get("gateways") { _, context -> GatewayList in
            _ = try context.requireAdmin()
            let formatter = ISO8601DateFormatter()
            let now = Date()
            return GatewayList(gateways: try await store.gateways().map { g in
                GatewayJSON(name: g.name, address: g.address, version: g.version, started_at: formatter.string(from: g.startedAt),
                            last_seen: formatter.string(from: g.seenAt), alive: g.isAlive(now: now), this: g.name == name,
                            in_flight: g.inFlight, waiting: g.waiting)
            })
        }
    }
}
