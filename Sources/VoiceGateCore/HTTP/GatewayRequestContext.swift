import Hummingbird
import NIOCore

/// Per-request context: the client's address and the request id every response carries.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The connection, to notice a client that leaves while its request waits.
    public let channel: (any Channel)?
    public var requestID = ""
    /// The key that was accepted, once the key middleware has run.
    public var caller: KeyRecord?
    public let exchange = RequestExchange()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// Admin routes: 403 for a client key.
    public func requireAdmin() throws -> KeyRecord {
        guard let caller else { throw GatewayError.unauthorized }
        guard caller.isAdmin else { throw GatewayError.forbidden }
        return caller
    }

    /// The client as the log shows it.
    public var clientDescription: String {
        guard let remoteAddress else { return "-" }
        return remoteAddress.ipAddress ?? remoteAddress.description
    }

    /// Runs `operation`, cancelling it if the client's connection closes first.
    /// (Hummingbird's `consumeWithCancellationOnInboundClose` would end keep-alive for the connection.)
    public func cancellingOnClientClose<T: Sendable>(_ operation: @Sendable @escaping () async throws -> T) async throws -> T {
        guard let channel, let detector = try? await channel.pipeline.handler(type: ClientCloseDetector.self).get() else {
            return try await operation()
        }
        let work = Task { try await operation() }
        let token = detector.whenClientCloses { work.cancel() }
        defer { if let token { detector.forget(token) } }
        return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
    }
}
