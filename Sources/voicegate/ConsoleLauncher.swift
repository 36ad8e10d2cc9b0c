import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import VoiceGateCore

/// `voicegate` on a terminal: the same gateway as `--server`, with the operator console in front.
struct ConsoleLauncher {
    let config: GatewayConfig

    func run() async {
        if let reason = TerminalSession.unsuitableReason() { VoiceGateCommand.fail(reason) }
        let book = ConsoleLogBook()
        var logger = Logger(label: "voicegate") { _ in ConsoleLogHandler(book: book) }
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        let (gateway, descriptors) = await GatewayRunner.makeGateway(config, logger: logger)
        let dataDir = GatewayConfig.absolute(config.dataDir)
        let reference = dataDir + "/sample-voice.wav"
        if !FileManager.default.fileExists(atPath: reference) {
            _ = FileManager.default.createFile(atPath: reference, contents: gateway.sampleVoice)
        }
        if let problem = await GatewayRunner.listenProblem(config) { VoiceGateCommand.fail(problem) }
        let session = TerminalSession()
        if let reason = session.start() { VoiceGateCommand.fail(reason) }
        GatewayRunner.logStartup(gateway, descriptors: descriptors, logger: logger)
        let app = ConsoleApp(gateway: gateway, book: book, listen: "\(config.host):\(config.port)", outputFolder: dataDir + "/output")
        var failure: String?
        do {
            try await GatewayRunner(gateway: gateway, logger: logger).run(
                extraServices: [ConsoleService(app: app, session: session, reference: reference)],
                extraSignals: [.sighup],
                onListening: { address in app.listen.withLock { $0 = address } })
        } catch {
            failure = GatewayRunner.describeStartFailure(error, config: config)
        }
        session.stop()
        // What could not be shown while curses owned the screen.
        for line in book.lines { print(line) }
        if let failure { VoiceGateCommand.fail(failure) }
    }
}
