/// The gateway closed the connection because the client stopped sending: its request fails with
/// `408 client_timeout`, the client's doing, not an internal error.
public struct ClientTimeout: Error, Sendable, CustomStringConvertible {
    public let reason: ConnectionGate.Timeout
    public let seconds: Double

    public var description: String {
        switch reason {
        case .header: "the request head did not arrive within \(DecimalText.format(seconds, places: 1, trimmingZeros: true)) s (CLIENT_HEADER_TIMEOUT)"
        case .body: "the client sent nothing for \(DecimalText.format(seconds, places: 1, trimmingZeros: true)) s while its body was read (CLIENT_IDLE_TIMEOUT); the connection was closed"
        case .slowBody: "the body arrived slower than CLIENT_BODY_MIN_RATE while the gateway had MAX_CONNECTIONS open; the connection was closed to make room"
        }
    }
}
