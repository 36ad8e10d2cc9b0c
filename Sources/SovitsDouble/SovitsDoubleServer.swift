import Hummingbird
import Logging
import ServiceLifecycle

/// A double listening on a real socket, that a test or benchmark can stop (as a crashed GPU server) and start
/// again on the same port (as one coming back).
public final class SovitsDoubleServer: Sendable {
    public let double: SovitsDouble
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(double: SovitsDouble, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.double = double
        self.port = port
        self.group = group
        self.task = task
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// `port` 0 picks a free one.
    public static func start(_ double: SovitsDouble, port: Int = 0) async throws -> SovitsDoubleServer {
        let quiet = Logger(label: "sovits-double") { _ in SwiftLogNoOpLogHandler() }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: double.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0); continuation.finish() }, logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        let task = Task { try await group.run() }
        var bound = 0
        for await p in ports { bound = p }
        if bound == 0 {
            try await task.value
            throw DoubleStartFailure(port: port)
        }
        return SovitsDoubleServer(double: double, port: bound, group: group, task: task)
    }

    /// Stops listening and waits until it has.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    struct DoubleStartFailure: Error, CustomStringConvertible {
        let port: Int
        var description: String { "the double could not listen on port \(port)" }
    }
}
