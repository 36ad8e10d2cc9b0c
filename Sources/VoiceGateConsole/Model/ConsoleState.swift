import Foundation
import VoiceGateCore

/// What has focus: the request log, a form field, or the Synthesize button.
public enum Focus: Equatable, Sendable {
    case log
    case field(FormField)
    case synthesize

    /// Tab order: log -> fields -> Synthesize -> log.
    static let order: [Focus] = [.log] + FormField.allCases.map { .field($0) } + [.synthesize]

    func moved(by step: Int) -> Focus {
        let index = Self.order.firstIndex(of: self) ?? 0
        return Self.order[(index + step + Self.order.count) % Self.order.count]
    }

    var isTextEntry: Bool {
        if case .field(let f) = self { return f.isTextEntry }
        return false
    }
}

/// The outcome of the last synthesis started from the console.
public struct ConsoleResult: Sendable, Equatable {
    public var path: String
    public var duration: Double
    public var sampleRate: Int
    public var timeToFirstByte: Double
    public var total: Double
    /// Peak level per slice of the audio, 0...1, for the waveform.
    public var peaks: [Float]

    public var realTimeFactor: Double { duration > 0 ? total / duration : 0 }
}

public enum RunState: Sendable, Equatable {
    case idle
    case running(started: Date, queuePosition: Int?)
    case finished(ConsoleResult)
    case failed(String)
    case cancelled
}

/// Everything the operator has done to the screen: focus, form, log position and filter, overlays.
public struct ConsoleState: Sendable {
    public var focus: Focus = .log
    public var form: SynthesisForm
    /// Lines scrolled back from the newest; 0 follows new lines.
    public var logScroll = 0
    public var filter = ""
    public var editingFilter = false
    public var showHelp = false
    /// The request whose details are open over the screen (Enter on the log); a finished request never changes.
    public var detail: RequestEvent?
    /// The log, or the table in its place.
    public var view = MainView.log
    /// Rows the keys view is scrolled down by.
    public var keysScroll = 0
    /// The worker the workers view's d and r act on, by row.
    public var workerSelection = 0
    /// The jobs view's selected job (by row), the job whose items are open (Enter), and the selected item.
    public var jobSelection = 0
    public var openJob: String?
    public var itemSelection = 0
    public var run: RunState = .idle
    public var completions: [String] = []
    public var ascii = false
    /// Where typing goes in the focused field, in characters from its start; nil is its end.
    public var cursor: Int?

    public init(form: SynthesisForm, ascii: Bool = false) {
        self.form = form
        self.ascii = ascii
    }

    public var isFollowing: Bool { logScroll == 0 }

    /// A full-width table is up while the log has focus; Tab to the form shows the form again.
    public var coversForm: Bool { view.coversForm && focus == .log }

    public var isRunning: Bool {
        if case .running = run { return true }
        return false
    }
}
