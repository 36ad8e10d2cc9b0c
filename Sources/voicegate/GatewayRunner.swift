import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import VoiceGateCore

/// Runs the gateway's HTTP server and background services in one service group with graceful shutdown.
struct GatewayRunner {
    let gateway: Gateway
    let logger: Logger

    /// `extraServices` run beside the server (the console); they are stopped first and drain nothing.
    func run(extraServices: [any Service], extraSignals: [UnixSignal] = [],
             onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let logger = self.logger
        let app = gateway.makeApplication { channel in
            let address = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
            logger.info("listening on http://\(address)")
            onListening(address)
        }
        // Reverse order on shutdown: extras, then the server drains, then monitor and upstream client.
        // When an extra (the console) ends, everything shuts down gracefully.
        let announcer = ShutdownAnnouncer(logger: logger, grace: gateway.config.shutdownGrace)
        let core: [any Service] = gateway.backgroundServices + [app, announcer]
        var configuration = ServiceGroupConfiguration(
            services: core.map { .init(service: $0) }
                + extraServices.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint] + extraSignals,
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int64(gateway.config.shutdownGrace * 1000))
        try await ServiceGroup(configuration: configuration).run()
    }

    /// The gateway for `config`, or one clear line and exit 1.
    /// Raises the soft descriptor limit to the hard one first: the connection limits are derived from it. The
    /// limits before and after go to `logStartup`, which runs once the address is known to be free.
    static func makeGateway(_ config: GatewayConfig, logger: Logger) async
        -> (gateway: Gateway, descriptors: (before: DescriptorLimit, after: DescriptorLimit)) {
        let descriptors = DescriptorLimit.raiseSoftToHard()
        do {
            return (try await Gateway(config: config, logger: logger, descriptorLimit: descriptors.after.soft), descriptors)
        } catch {
            VoiceGateCommand.fail("\(error)")
        }
    }

    static func logStartup(_ gateway: Gateway, descriptors: (before: DescriptorLimit, after: DescriptorLimit), logger: Logger) {
        let c = gateway.config
        logger.info("VoiceGate \(Gateway.version) serving \(c.appName) \(c.appVersion) on \(c.host):\(c.port)")
        logger.info("\(gateway.engineDescription)")
        if case .generated = gateway.keySource {
            // Where a new key is must be said whatever LOG_LEVEL hides: otherwise nobody can call the API.
            logger.log(level: max(.notice, logger.logLevel), "\(gateway.keyDescription)")
        } else {
            logger.info("\(gateway.keyDescription)")
        }
        let (before, now) = descriptors
        let limits = gateway.connections.limits
        let descriptors = before.soft == now.soft ? "\(now.soft) (hard \(now.hard))" : "raised from \(before.soft) to \(now.soft) (the hard limit)"
        logger.info("file descriptors: \(descriptors); up to \(limits.maxConnections) client connections, \(limits.maxPerClient) per address, request heads within \(DecimalText.format(limits.headerTimeout, places: 1, trimmingZeros: true)) s")
        logger.info("keys, usage and history in \(gateway.storeLocation.description)")
        logger.info("references stored in \(gateway.references.directory) (upstream sees \(c.upstreamRefDir)); queue: \(c.maxConcurrency) at a time, \(c.queueMax) waiting")
    }

    /// Binds and releases the listening address, so a taken port or a bad host stops startup with one clear
    /// line before anything is logged or the console takes the terminal. (The server binds again when it starts;
    /// should another process take the port in between, `run` fails with the same line.)
    static func listenProblem(_ config: GatewayConfig) async -> String? {
        await ListenProbe.check(host: config.host, port: config.port).map { describeStartFailure($0, config: config) }
    }

    static func describeStartFailure(_ error: any Error, config: GatewayConfig) -> String {
        if let error = error as? IOError {
            return "cannot listen on \(config.host):\(config.port): \(String(cString: strerror(error.errnoCode)))"
        }
        if error is SocketAddressError.UnknownHost {
            return "cannot listen on \(config.host):\(config.port): unknown host"
        }
        let text = String(describing: error)
        if text.contains("Address already in use") || text.contains("EADDRINUSE") {
            return "cannot listen on \(config.host):\(config.port): address already in use"
        }
        return "cannot start: \(text)"
    }
}
