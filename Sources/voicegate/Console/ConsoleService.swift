import Foundation
import ServiceLifecycle
import VoiceGateCore

/// The console as a service beside the HTTP server: when it ends (the operator quit), the whole group
/// shuts down gracefully; when the group shuts down (a signal) or is cancelled (the server failed), the
/// console leaves curses mode first.
struct ConsoleService: Service {
    let app: ConsoleApp
    let session: TerminalSession
    let reference: String

    func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread { [app, session, reference] in
                    app.loop(session: session, reference: reference)
                    session.stop()
                    done.resume()
                }
                thread.name = "voicegate-console"
                thread.start()
            }
        } onCancelOrGracefulShutdown: {
            app.requestStop()
        }
    }
}
