import Foundation
import Synchronization
import VoiceGateConsole
import VoiceGateCore

/// The console's run loop, on a thread of its own because every ncurses call must come from one thread
/// and reading keys blocks: snapshot, draw, read a key (100 ms timeout), repeat.
final class ConsoleApp: @unchecked Sendable {
    let gateway: Gateway
    let book: ConsoleLogBook
    let listen: Mutex<String>
    let outputFolder: String
    private let stopRequested = Atomic<Bool>(false)
    private let runState = Mutex<RunState?>(nil)
    private let queuePosition = Mutex<Int?>(nil)
    private var synthesis: Task<Void, Never>?

    init(gateway: Gateway, book: ConsoleLogBook, listen: String, outputFolder: String) {
        self.gateway = gateway
        self.book = book
        self.listen = Mutex(listen)
        self.outputFolder = outputFolder
    }

    func requestStop() { stopRequested.store(true, ordering: .relaxed) }

    /// Runs until the operator quits or a stop is requested. Returns a message for the shell, if any.
    func loop(session: TerminalSession, reference: String) {
        let canvas = NcursesCanvas(colors: session.colors)
        let ascii = ProcessInfo.processInfo.environment["VOICEGATE_ASCII"].map { !$0.isEmpty && $0 != "0" } ?? false
        var state = ConsoleState(form: SynthesisForm(reference: reference), ascii: ascii)
        var keys = KeyHandler()
        let renderer = ConsoleRenderer()
        let voiceNames = Mutex<[String]?>(nil)
        let voices = gateway.voices
        // The voice picker follows the store (a voice added with the CLI or the API shows up within two seconds).
        let voicePoller = Task {
            while !Task.isCancelled {
                if let names = try? await voices.usable(by: ConsoleSynthesizer.operatorKey).map(\.name) {
                    voiceNames.withLock { $0 = names }
                }
                try? await Task.sleep(for: .seconds(2))
            }
        }
        defer { voicePoller.cancel() }
        while !stopRequested.load(ordering: .relaxed) {
            session.followTerminalSize()
            if let names = voiceNames.withLock({ n -> [String]? in defer { n = nil }; return n }) {
                state.form.updateVoices(names)
            }
            if let finished = runState.withLock({ s -> RunState? in defer { s = nil }; return s }) {
                state.run = finished
            }
            if case .running(let started, _) = state.run {
                state.run = .running(started: started, queuePosition: queuePosition.withLock { $0 })
            }
            // Unfiltered, only the tail that can be on screen is copied (a scroll position plus a screenful).
            let limit = state.filter.isEmpty ? state.logScroll + canvas.height : nil
            let snapshot = DashboardSnapshot.of(gateway, listen: listen.withLock { $0 }, notice: book.latest, eventLimit: limit,
                                                view: state.view, openJob: state.openJob)
            keys.workerNames = gateway.pool.workers.map(\.name)
            keys.jobIDs = snapshot.jobs.map(\.job.id)
            keys.itemIndexes = snapshot.openItems.map(\.index)
            if let layout = renderer.render(state, snapshot, on: canvas) {
                keys.logPageSize = max(1, layout.log.height - 2)
                // Scrolling back is bounded by the whole history, not the copied tail.
                keys.logLineCount = ConsoleRendererSupport.lineCount(snapshot, filter: state.filter)
                keys.selectedRequest = ConsoleRendererSupport.selectedRequest(snapshot, state, height: keys.logPageSize)
            }
            session.present()
            guard let key = KeyDecoder.read() else {
                if TerminalInput.hungUp() { requestStop() }
                continue
            }
            if canvas.width < ConsoleRenderer.minWidth || canvas.height < ConsoleRenderer.minHeight {
                // The too-small screen still quits.
                if key == .character("q") || key == .control("c") || key == .function(10) { break }
                continue
            }
            switch keys.handle(key, &state) {
            case .quit: requestStop()
            case .redraw: session.redrawAll()
            case .synthesize: start(state.form, &state)
            case .cancel: synthesis?.cancel()
            case .drain(let name): Task { try? await gateway.setDraining(name, true) }
            case .resume(let name): Task { try? await gateway.setDraining(name, false) }
            case .cancelJob(let id):
                let control = gateway.jobControl
                Task { _ = try? await control.cancel(id, by: "the console") }
            case .regenerateItem(let id, let index):
                let (control, store) = (gateway.jobControl, gateway.database)
                Task {
                    guard let job = try? await store.job(id: id), let item = try? await store.items(ofJob: id).first(where: { $0.index == index }) else { return }
                    try? await control.regenerate(job, item: item)
                }
            case .none: break
            }
        }
        synthesis?.cancel()
    }

    private func start(_ form: SynthesisForm, _ state: inout ConsoleState) {
        state.run = .running(started: Date(), queuePosition: nil)
        let synthesizer = ConsoleSynthesizer(gateway: gateway)
        let folder = outputFolder
        synthesis = Task { [self] in
            let outcome = await synthesizer.run(form, outputFolder: folder) { position in
                self.queuePosition.withLock { $0 = position }
            }
            self.runState.withLock { $0 = outcome }
        }
    }
}
