import NIOCore
import NIOPosix

/// Binds the gateway's address once before the server does, so that a taken port or an unknown host is one clear
/// line at startup instead of a service group's error.
///
/// The probe listens for a moment but never accepts: a client that connects in that moment (a health check while
/// the gateway restarts) is reset when the probe closes and tries again. An accepting probe took the connection
/// and then held it, unanswered, for the life of the process.
public enum ListenProbe {
    /// The bound, non-accepting probe; close it before the server binds.
    static func bind(host: String, port: Int) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.autoRead, value: false)
            .bind(host: host, port: port).get()
    }

    /// Nil when the address can be listened on; else the error binding it gave.
    public static func check(host: String, port: Int) async -> (any Error)? {
        do {
            try await bind(host: host, port: port).close()
            return nil
        } catch {
            return error
        }
    }
}
