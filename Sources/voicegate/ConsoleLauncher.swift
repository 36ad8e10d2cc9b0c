import Foundation
import VoiceGateCore

/// Opens the operator console when stdin and stdout are a capable terminal.
struct ConsoleLauncher {
    let config: GatewayConfig

    func run() async {
        guard isatty(0) == 1, isatty(1) == 1 else {
            VoiceGateCommand.fail("not a terminal: the console needs one. Run `voicegate --server` for the headless gateway.")
        }
        if let term = ProcessInfo.processInfo.environment["TERM"], term == "dumb" || term.isEmpty {
            VoiceGateCommand.fail("TERM=\(term) cannot show the console. Run `voicegate --server` for the headless gateway.")
        }
        VoiceGateCommand.fail("the console is not available in this build yet. Run `voicegate --server`.")
    }
}
