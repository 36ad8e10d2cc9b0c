import VoiceGateCore

/// Turns key presses into state changes and actions. Pure: no terminal, no gateway.
public struct KeyHandler {
    /// Rows the log pane shows, for PgUp/PgDn; set by the layout each frame.
    public var logPageSize = 10
    /// Lines the filtered log has, so scrolling stops at the oldest.
    public var logLineCount = 0
    /// The workers' names, in the workers view's order; set each frame.
    public var workerNames: [String] = []
    /// The jobs view's jobs (ids, in its order) and the open job's item indexes; set each frame.
    public var jobIDs: [String] = []
    public var itemIndexes: [Int] = []
    /// The request Enter on the log opens (the selected, bottom one); set each frame.
    public var selectedRequest: RequestEvent?

    public init() {}

    public func handle(_ key: Key, _ state: inout ConsoleState) -> ConsoleAction {
        let focus = state.focus
        let action = dispatch(key, &state)
        if state.focus != focus { state.cursor = nil }
        return action
    }

    private func dispatch(_ key: Key, _ state: inout ConsoleState) -> ConsoleAction {
        // Keys that work everywhere.
        switch key {
        case .control("c"), .function(10): return .quit
        case .control("l"): return .redraw
        case .function(1):
            state.showHelp.toggle()
            return .none
        case .function(2):
            state.view = MainView.toggled(state.view, to: .keys)
            return .none
        case .function(3):
            state.view = MainView.toggled(state.view, to: .workers)
            return .none
        case .function(4):
            state.view = MainView.toggled(state.view, to: .jobs)
            return .none
        case .function(5):
            state.view = MainView.toggled(state.view, to: .gateways)
            return .none
        case .resize: return .redraw
        default: break
        }
        if state.showHelp {
            if key == .escape || key == .character("?") || key == .character("q") { state.showHelp = false }
            return .none
        }
        if state.detail != nil {
            if key == .escape || key == .enter || key == .character("q") { state.detail = nil }
            return .none
        }
        if state.editingFilter { return editFilter(key, &state) }
        if key == .escape {
            if state.isRunning { return .cancel }
            if state.view == .jobs, state.openJob != nil, state.focus == .log {
                state.openJob = nil
                return .none
            }
            if !state.completions.isEmpty { state.completions = []; return .none }
            if state.focus != .log { state.focus = .log; return .none }
            if !state.filter.isEmpty { state.filter = ""; state.logScroll = 0 }
            return .none
        }
        if key == .tab || key == .backTab {
            if key == .tab, case .field(.reference) = state.focus, complete(&state) { return .none }
            state.completions = []
            state.focus = state.focus.moved(by: key == .tab ? 1 : -1)
            return .none
        }
        if key == .control("r") { return state.isRunning ? .none : .synthesize }
        if !state.focus.isTextEntry {
            if key == .character("q") { return .quit }
            if key == .character("?") { state.showHelp = true; return .none }
        }
        switch state.focus {
        case .log: return handleLog(key, &state)
        case .synthesize:
            if key == .enter || key == .character(" ") { return state.isRunning ? .none : .synthesize }
            return .none
        case .field(let field): return handleField(field, key, &state)
        }
    }

    private func handleLog(_ key: Key, _ state: inout ConsoleState) -> ConsoleAction {
        let views: [Key: MainView] = [.character("k"): .keys, .character("w"): .workers, .character("g"): .gateways,
                                      .character("j"): .jobs]
        if let view = views[key] {
            state.view = MainView.toggled(state.view, to: view)
            return .none
        }
        switch state.view {
        case .workers: return handleWorkers(key, &state)
        case .keys:
            if key == .down { state.keysScroll += 1 }
            if key == .up { state.keysScroll = max(0, state.keysScroll - 1) }
            return .none
        case .jobs: return handleJobs(key, &state)
        case .gateways: return .none
        case .log: break
        }
        let maxScroll = max(0, logLineCount - logPageSize)
        switch key {
        case .up: state.logScroll = min(maxScroll, state.logScroll + 1)
        case .down: state.logScroll = max(0, state.logScroll - 1)
        case .pageUp: state.logScroll = min(maxScroll, state.logScroll + logPageSize)
        case .pageDown: state.logScroll = max(0, state.logScroll - logPageSize)
        case .home: state.logScroll = maxScroll
        case .end: state.logScroll = 0
        case .enter: state.detail = selectedRequest
        case .character("/"):
            state.editingFilter = true
        default: break
        }
        return .none
    }

    /// ↑↓ pick a job; Enter shows its items (↑↓ pick one, r redoes it; Esc or Enter back); c cancels the job.
    private func handleJobs(_ key: Key, _ state: inout ConsoleState) -> ConsoleAction {
        if let open = state.openJob {
            let last = max(0, itemIndexes.count - 1)
            state.itemSelection = min(state.itemSelection, last)
            switch key {
            case .down: state.itemSelection = min(last, state.itemSelection + 1)
            case .up: state.itemSelection = max(0, state.itemSelection - 1)
            case .enter: state.openJob = nil
            case .character("c"): return .cancelJob(open)
            case .character("r") where !itemIndexes.isEmpty: return .regenerateItem(job: open, index: itemIndexes[state.itemSelection])
            default: break
            }
            return .none
        }
        let last = max(0, jobIDs.count - 1)
        state.jobSelection = min(state.jobSelection, last)
        switch key {
        case .down: state.jobSelection = min(last, state.jobSelection + 1)
        case .up: state.jobSelection = max(0, state.jobSelection - 1)
        case .enter where !jobIDs.isEmpty:
            state.openJob = jobIDs[state.jobSelection]
            state.itemSelection = 0
        case .character("c") where !jobIDs.isEmpty: return .cancelJob(jobIDs[state.jobSelection])
        default: break
        }
        return .none
    }

    /// ↑↓ pick a worker; d drains it, r resumes it.
    private func handleWorkers(_ key: Key, _ state: inout ConsoleState) -> ConsoleAction {
        let last = max(0, workerNames.count - 1)
        state.workerSelection = min(state.workerSelection, last)
        switch key {
        case .down: state.workerSelection = min(last, state.workerSelection + 1)
        case .up: state.workerSelection = max(0, state.workerSelection - 1)
        case .character("d") where !workerNames.isEmpty: return .drain(workerNames[state.workerSelection])
        case .character("r") where !workerNames.isEmpty: return .resume(workerNames[state.workerSelection])
        default: break
        }
        return .none
    }

    private func editFilter(_ key: Key, _ state: inout ConsoleState) -> ConsoleAction {
        switch key {
        case .enter: state.editingFilter = false
        case .escape:
            state.editingFilter = false
            state.filter = ""
        case .backspace: if !state.filter.isEmpty { state.filter.removeLast() }
        case .character(let c): state.filter.append(c)
        default: break
        }
        state.logScroll = 0
        return .none
    }

    private func handleField(_ field: FormField, _ key: Key, _ state: inout ConsoleState) -> ConsoleAction {
        if field.hasCursor, edit(field, key, &state) { return .none }
        switch (field, key) {
        case (.language, .left), (.voice, .left), (.format, .left), (.speed, .left), (.temperature, .left):
            state.form.step(field, by: -1)
        case (.language, .right), (.voice, .right), (.format, .right), (.speed, .right), (.temperature, .right):
            state.form.step(field, by: 1)
        case (_, .enter), (_, .down):
            state.focus = state.focus.moved(by: 1)
        case (_, .up):
            state.focus = state.focus.moved(by: -1)
        case (.language, _), (.voice, _), (.format, _):
            break
        case (_, .backspace):
            var value = state.form.value(field)
            if !value.isEmpty { value.removeLast() }
            state.form.set(field, value)
        case (_, .control("u")):
            state.form.set(field, "")
            state.cursor = nil
        case (_, .character(let c)):
            state.form.set(field, state.form.value(field) + String(c))
        default:
            break
        }
        return .none
    }

    /// Cursor movement and editing at the cursor; false for keys it leaves to the form.
    private func edit(_ field: FormField, _ key: Key, _ state: inout ConsoleState) -> Bool {
        var value = Array(state.form.value(field))
        var at = min(state.cursor ?? value.count, value.count)
        switch key {
        case .left: at = max(0, at - 1)
        case .right: at = min(value.count, at + 1)
        case .home, .control("a"): at = 0
        case .end, .control("e"): at = value.count
        case .backspace:
            guard at > 0 else { return true }
            value.remove(at: at - 1)
            at -= 1
        case .delete:
            guard at < value.count else { return true }
            value.remove(at: at)
        case .character(let c):
            value.insert(c, at: at)
            at += 1
        case .enter where field == .text:
            value.insert("\n", at: at)
            at += 1
        default:
            return false
        }
        state.form.set(field, String(value))
        state.cursor = at == value.count ? nil : at
        return true
    }

    /// Completes the reference path; false when there was nothing to add (Tab then moves on).
    private func complete(_ state: inout ConsoleState) -> Bool {
        let (completed, matches) = PathCompletion.complete(state.form.reference)
        let alreadyShown = !state.completions.isEmpty && state.completions == matches
        state.completions = matches.count > 1 && !alreadyShown ? matches : []
        guard completed != state.form.reference else { return matches.count > 1 && !alreadyShown }
        state.form.reference = completed
        state.cursor = nil
        return true
    }
}
