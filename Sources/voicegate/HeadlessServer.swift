import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import VoiceGateCore

/// `voicegate --server`: the gateway with logs on stderr, stopped gracefully by SIGINT or SIGTERM.
struct HeadlessServer {
    let config: GatewayConfig

    func run() async {
        var logger = Logger(label: "voicegate") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        let (gateway, descriptors) = await GatewayRunner.makeGateway(config, logger: logger)
        if let problem = await GatewayRunner.listenProblem(config) { VoiceGateCommand.fail(problem) }
        GatewayRunner.logStartup(gateway, descriptors: descriptors, logger: logger)
        do {
            try await GatewayRunner(gateway: gateway, logger: logger).run(extraServices: [])
            logger.info("shut down cleanly")
        } catch {
            VoiceGateCommand.fail(GatewayRunner.describeStartFailure(error, config: config))
        }
    }
}
