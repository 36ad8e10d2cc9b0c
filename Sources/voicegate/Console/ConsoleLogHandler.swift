import Foundation
import Logging
import Synchronization

/// While curses owns the screen nothing may print: log lines are kept here. The newest non-request
/// message shows in the footer; all of them are printed after the terminal is restored.
final class ConsoleLogBook: Sendable {
    private let state = Mutex<[String]>([])
    static let capacity = 200

    func add(_ line: String) {
        state.withLock { lines in
            lines.append(line)
            if lines.count > Self.capacity { lines.removeFirst(lines.count - Self.capacity) }
        }
    }

    var lines: [String] { state.withLock { $0 } }
    var latest: String? { state.withLock { $0.last } }
}

struct ConsoleLogHandler: LogHandler {
    let book: ConsoleLogBook
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // Request lines are already in the request log pane.
        guard event.metadata?["request_id"] == nil else { return }
        book.add("\(event.level): \(event.message)")
    }
}
