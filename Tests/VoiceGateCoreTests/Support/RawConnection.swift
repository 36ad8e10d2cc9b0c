import NIOCore
import NIOPosix
import Synchronization

/// A client connection on a real socket that sends exactly the bytes a test gives it, optionally from another
/// loopback address (all of 127.0.0.0/8 reaches the gateway), to play silent, slow or many clients.
struct RawConnection: Sendable {
    let channel: any Channel
    let received: Collector

    static func open(port: Int, from source: String? = nil) async throws -> RawConnection {
        let received = Collector()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { $0.pipeline.addHandler(received) }
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: received)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    func send(_ bytes: some Sequence<UInt8>) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    var isOpen: Bool { channel.isActive }

    /// One request on a new connection that the server closes after answering; what came back, as text.
    static func exchange(port: Int, _ request: String, body: [UInt8] = [], from source: String? = nil) async throws -> String {
        let connection = try await open(port: port, from: source)
        // A refused connection is answered and closed at once, perhaps before the request is sent: what it said counts.
        try? await connection.send(request)
        if !body.isEmpty { try? await connection.send(body) }
        try await connection.channel.closeFuture.get()
        return connection.received.text
    }
}

/// Collects what a raw connection receives, as text.
final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let received = Mutex("")
    var text: String { received.withLock { $0 } }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received.withLock { $0 += String(buffer: buffer) }
    }
}
