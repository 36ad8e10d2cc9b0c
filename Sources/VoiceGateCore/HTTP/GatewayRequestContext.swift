import Hummingbird
import NIOCore

/// Per-request context: the client's address and the request id every response carries.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var requestID = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client as the log shows it.
    public var clientDescription: String {
        guard let remoteAddress else { return "-" }
        return remoteAddress.ipAddress ?? remoteAddress.description
    }
}
