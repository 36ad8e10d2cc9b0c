import Synchronization

/// The gate in front of the upstream workers: each worker (a slot) runs at most its capacity, at most `maxWaiting`
/// requests wait, each waits at most `timeout`, and a cancelled waiter leaves at once. Waiters are grouped in lanes
/// (one per key): a freed place goes round-robin across the lanes that wait, first-in first-out within a lane, so a
/// key that queues hundreds of requests delays another key's request by at most one of its own.
///
/// Placement is done here, under the same lock as the lanes, so a freed worker gets its next request in the same
/// step that frees it. With the affinity policy a waiter goes to a free worker that has its weights loaded; a
/// waiter whose weights no free worker has may let later waiters that match go first (at most `maxSkips` times),
/// and only when nobody waiting matches a free worker is an idle one — the least recently used — given to it with
/// a weights switch. Even then a switch must pay: it is made at once only for weights no serving worker has, and
/// otherwise once the waiter has waited as long as a switch takes (measured; ski rental: waiting a switch's time
/// before paying for one costs at most twice the best choice made knowing the future). Round-robin ignores
/// weights (the comparison the benchmark makes).
public final class FairQueue: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var running: Int
        public var waiting: Int
        public var maxConcurrency: Int
        public var maxWaiting: Int
    }

    public enum Policy: String, Sendable { case affinity, roundRobin = "round-robin" }

    /// What a worker offers the queue: how many requests it runs at once and the weights it starts with.
    public struct SlotSpec: Sendable {
        public var capacity: Int
        public var weights: ModelWeights?
        public init(capacity: Int, weights: ModelWeights? = nil) {
            self.capacity = capacity
            self.weights = weights
        }
    }

    /// Where a waiter is sent: a worker, and the weights to load there first when it has others.
    struct Grant: Sendable {
        let slot: Int
        let switchTo: ModelWeights?
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Grant, any Error>
        let want: ModelWeights?
        let excluded: Int?
        /// A job's item: the key's own requests go before it in the key's lane.
        var background = false
        let since = ContinuousClock.now
        var skips = 0
    }

    private struct Slot {
        var capacity: Int
        var running = 0
        var up = true
        var draining = false
        var switching = false
        var loaded: ModelWeights?
        var lastUsed: UInt64 = 0
        var switchStarted: ContinuousClock.Instant?
        /// Places other gateways sharing the worker hold (`WorkerLeaseBoard`); 0 for a gateway alone.
        var elsewhere = 0
        /// Offered to another gateway's waiter until then: this gateway's waiters do not take it meanwhile.
        var handoffUntil: ContinuousClock.Instant?
    }

    private struct State {
        var slots: [Slot]
        var lanes: [String: [Waiter]] = [:]
        /// Lanes that have waiters, in serving order; `cursor` is the one served next.
        var order: [String] = []
        var cursor = 0
        /// Retries after a failed connection go before every lane.
        var retries: [Waiter] = []
        /// Other gateways sharing the workers have requests waiting: a freed worker is offered to them first.
        var othersWaiting = false
        var waiting = 0
        var nextID: UInt64 = 1
        var tick: UInt64 = 0
        var rotation = 0
        var switches = 0
        var granted = 0
        var closed = false
        /// How long a weights switch takes: the first guess until one is measured, then a moving average.
        var switchEstimate: Duration
        var switchMeasured = false
        /// When placement should look again because a waiter will have waited a switch's time; `scheduledWake` is
        /// the wake-up already asked for.
        var wantWake: ContinuousClock.Instant?
        var scheduledWake: ContinuousClock.Instant?

        var running: Int { slots.reduce(0) { $0 + $1.running } }

        mutating func append(_ waiter: Waiter, lane: String) {
            if lanes[lane] == nil {
                // A new lane joins at the end of the round: just before the one served next.
                order.insert(lane, at: cursor)
                cursor += 1
                if cursor >= order.count { cursor = 0 }
            }
            if !waiter.background, let firstBackground = lanes[lane]?.firstIndex(where: \.background) {
                lanes[lane]!.insert(waiter, at: firstBackground)
            } else {
                lanes[lane, default: []].append(waiter)
            }
            waiting += 1
        }

        /// Takes the waiter at `index` of `lane`; taking the head of the lane served next moves the round on.
        mutating func take(lane: String, index: Int) -> Waiter {
            if cursor >= order.count { cursor = 0 }
            let at = order.firstIndex(of: lane)!
            let waiter = lanes[lane]!.remove(at: index)
            waiting -= 1
            if lanes[lane]!.isEmpty {
                lanes[lane] = nil
                order.remove(at: at)
                if at < cursor { cursor -= 1 }
            } else if at == cursor && index == 0 {
                cursor += 1
            }
            if cursor >= order.count { cursor = 0 }
            return waiter
        }

        mutating func remove(_ id: UInt64) -> Waiter? {
            if let at = retries.firstIndex(where: { $0.id == id }) {
                waiting -= 1
                return retries.remove(at: at)
            }
            for lane in order {
                guard let at = lanes[lane]!.firstIndex(where: { $0.id == id }) else { continue }
                return take(lane: lane, index: at)
            }
            return nil
        }

        /// The lane waiters in the order the round-robin serves them, the first `limit` of them.
        func serviceOrder(limit: Int) -> [(lane: String, index: Int)] {
            guard !order.isEmpty else { return [] }
            let rotation = order.indices.map { order[($0 + cursor) % order.count] }
            var out: [(String, Int)] = []
            var depth = 0
            while out.count < limit {
                var any = false
                for lane in rotation where depth < lanes[lane]!.count {
                    out.append((lane, depth))
                    any = true
                    if out.count == limit { break }
                }
                if !any { break }
                depth += 1
            }
            return out
        }

        /// How many waiters the round-robin serves before this one, plus one.
        func position(of id: UInt64) -> Int? {
            if let at = retries.firstIndex(where: { $0.id == id }) { return at + 1 }
            let rotation = order.indices.map { order[($0 + cursor) % order.count] }
            for (r, lane) in rotation.enumerated() {
                guard let i = lanes[lane]!.firstIndex(where: { $0.id == id }) else { continue }
                var ahead = i + retries.count
                for (other, name) in rotation.enumerated() where other != r {
                    ahead += min(lanes[name]!.count, other < r ? i + 1 : i)
                }
                return ahead + 1
            }
            return nil
        }

        /// Workers that may take a request now. While no worker is up, the down ones still do, so a request meets
        /// the real reason (refused, timed out) instead of waiting for a worker that may never come.
        func free(excluding: Int?) -> [Int] {
            let anyUp = slots.contains { $0.up && !$0.draining }
            let now = ContinuousClock.now
            return slots.indices.filter { i in
                let s = slots[i]
                return i != excluding && !s.draining && (s.up || !anyUp) && !s.switching && s.running + s.elsewhere < s.capacity
                    && (s.handoffUntil.map { now >= $0 } ?? true)
            }
        }

        func matches(_ want: ModelWeights?, _ slot: Int) -> Bool {
            want == nil || slots[slot].loaded == want
        }

        /// The least recently used worker among `candidates` that runs nothing (weights switch only there).
        func idlest(_ candidates: [Int]) -> Int? {
            candidates.filter { slots[$0].running == 0 }.min { slots[$0].lastUsed < slots[$1].lastUsed }
        }

        mutating func assign(_ waiter: Waiter, to slot: Int) -> (CheckedContinuation<Grant, any Error>, Grant) {
            tick += 1
            granted += 1
            slots[slot].running += 1
            slots[slot].lastUsed = tick
            var switchTo: ModelWeights?
            if let want = waiter.want, slots[slot].loaded != want {
                // Taken as loaded at once so later placement counts on it; nothing else goes there until it is.
                switchTo = want
                slots[slot].loaded = want
                slots[slot].switching = true
                slots[slot].switchStarted = .now
                switches += 1
            }
            return (waiter.continuation, Grant(slot: slot, switchTo: switchTo))
        }

        /// One placement: the next waiter that can start now, and where. Nil when none can.
        mutating func placeOne(policy: Policy, maxSkips: Int) -> (CheckedContinuation<Grant, any Error>, Grant)? {
            for (index, retry) in retries.enumerated() {
                let free = free(excluding: retry.excluded)
                // A retry may not fit where it failed: then the lanes may use that worker meanwhile.
                guard let target = free.first(where: { matches(retry.want, $0) }) ?? idlest(free) else { continue }
                waiting -= 1
                return assign(retries.remove(at: index), to: target)
            }
            let candidates = serviceOrder(limit: 64)
            guard let head = candidates.first else { return nil }
            let headWaiter = lanes[head.lane]![head.index]
            let free = free(excluding: nil)
            guard !free.isEmpty else { return nil }
            if policy == .roundRobin {
                // Naive balancing: the next free worker in turn, whatever it has loaded.
                let slot = free.min { ($0 - rotation + slots.count) % slots.count < ($1 - rotation + slots.count) % slots.count }!
                rotation = (slot + 1) % slots.count
                guard headWaiter.want == nil || slots[slot].running == 0 || slots[slot].loaded == headWaiter.want else { return nil }
                return assign(take(lane: head.lane, index: head.index), to: slot)
            }
            if let slot = free.first(where: { matches(headWaiter.want, $0) }) {
                return assign(take(lane: head.lane, index: head.index), to: slot)
            }
            if headWaiter.skips < maxSkips {
                for candidate in candidates.dropFirst() {
                    let waiter = lanes[candidate.lane]![candidate.index]
                    guard let slot = free.first(where: { matches(waiter.want, $0) }) else { continue }
                    lanes[head.lane]![head.index].skips += 1
                    return assign(take(lane: candidate.lane, index: candidate.index), to: slot)
                }
            }
            guard let idle = idlest(free) else { return nil }
            let now = ContinuousClock.now
            for (n, candidate) in candidates.enumerated() {
                let waiter = lanes[candidate.lane]![candidate.index]
                // A head passed over as often as it may be goes now, switch or not.
                guard n == 0 && waiter.skips >= maxSkips || worthSwitching(for: waiter, now: now) else { continue }
                if n > 0 { lanes[head.lane]![head.index].skips += 1 }
                return assign(take(lane: candidate.lane, index: candidate.index), to: idle)
            }
            // Everyone waiting can soon be served where their weights are: look again when one will have waited
            // as long as a switch takes, in case that worker is slower than a switch.
            let due = candidates.map { lanes[$0.lane]![$0.index].since + switchEstimate }.min()!
            wantWake = min(wantWake ?? due, due)
            return nil
        }

        /// A switch is worth it for weights no serving worker has, or once the waiter has waited a switch's time.
        func worthSwitching(for waiter: Waiter, now: ContinuousClock.Instant) -> Bool {
            guard let want = waiter.want else { return true }
            let served = slots.contains { $0.up && !$0.draining && $0.loaded == want }
            return !served || now - waiter.since >= switchEstimate
        }

        mutating func measureSwitch(slot: Int) {
            guard let started = slots[slot].switchStarted else { return }
            slots[slot].switchStarted = nil
            let took = ContinuousClock.now - started
            switchEstimate = switchMeasured ? (switchEstimate * 7 + took * 3) / 10 : took
            switchMeasured = true
        }
    }

    public let maxWaiting: Int
    public let policy: Policy
    /// Told when a request has to wait (the lease board, so that other gateways hear of it at once).
    private let waitingHook = Mutex<(@Sendable () -> Void)?>(nil)
    /// How often a waiter may be passed over by later ones whose weights are loaded on a free worker.
    static let maxSkips = 4
    private let state: Mutex<State>

    /// `switchEstimate` is how long a weights switch is taken to last until one has been measured.
    public init(slots: [SlotSpec], maxWaiting: Int, policy: Policy = .affinity, switchEstimate: Duration = .seconds(1)) {
        precondition(!slots.isEmpty && slots.allSatisfy { $0.capacity >= 1 })
        self.maxWaiting = maxWaiting
        self.policy = policy
        state = Mutex(State(slots: slots.map { Slot(capacity: $0.capacity, loaded: $0.weights) }, switchEstimate: switchEstimate))
    }

    /// How long a freed worker is offered to another gateway's waiter at most before this gateway's own may take
    /// it: a notification, a look at the board and a claim take a few milliseconds, more on a loaded machine. The
    /// offer ends as soon as the board shows the worker taken or nobody else waiting.
    static let handoff: Duration = .milliseconds(100)

    /// One worker running `maxConcurrency` at once.
    public convenience init(maxConcurrency: Int, maxWaiting: Int) {
        self.init(slots: [SlotSpec(capacity: maxConcurrency)], maxWaiting: maxWaiting)
    }

    public var maxConcurrency: Int { state.withLock { $0.slots.reduce(0) { $0 + $1.capacity } } }

    public var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(running: s.running, waiting: s.waiting, maxConcurrency: s.slots.reduce(0) { $0 + $1.capacity }, maxWaiting: maxWaiting)
        }
    }

    /// Waiters per lane, for the console's keys view.
    public var waitingByLane: [String: Int] { state.withLock { $0.lanes.mapValues(\.count) } }

    /// Places handed out since the queue started, in the order they were handed out.
    public var granted: Int { state.withLock { $0.granted } }

    /// Weights switches the queue has ordered since it started.
    public var switches: Int { state.withLock { $0.switches } }

    /// How long a weights switch is taken to last: measured once one has been made.
    public var switchEstimate: Duration { state.withLock { $0.switchEstimate } }

    /// What each worker has loaded, as the queue counts on it.
    public func loaded(slot: Int) -> ModelWeights? { state.withLock { $0.slots[slot].loaded } }

    public func running(slot: Int) -> Int { state.withLock { $0.slots[slot].running } }

    /// A ticket names a place in the line before it is taken, so a caller can ask for its position.
    public func makeTicket() -> UInt64 {
        state.withLock { s in defer { s.nextID += 1 }; return s.nextID }
    }

    /// 1 for the first waiter; nil when the ticket is not waiting (running, gone or not queued yet).
    public func position(of ticket: UInt64) -> Int? {
        state.withLock { $0.position(of: ticket) }
    }

    /// Waits for a place on a worker; the returned lease names it and must be released when the upstream work is
    /// done. `weights` are what the request needs loaded; `retryExcluding` puts it first in line, anywhere but there.
    /// `front`: back first in line (its place was taken by another gateway as it got it). `background`: a job's
    /// item, which its lane's other requests pass.
    public func acquire(ticket: UInt64? = nil, lane: String = "", weights: ModelWeights? = nil, retryExcluding: Int? = nil,
                        front: Bool = false, background: Bool = false, timeout: Double) async throws -> QueueLease {
        let id = ticket ?? makeTicket()
        let refusal: QueueError? = state.withLock { s in
            if s.slots.allSatisfy(\.draining) { return .allDraining }
            return retryExcluding == nil && !front && s.waiting >= maxWaiting && s.free(excluding: nil).isEmpty ? .full(waiting: s.waiting) : nil
        }
        if let refusal { throw refusal }
        let timer = Deadline.after(timeout) { [weak self] in self?.remove(id, with: QueueError.timedOut(after: timeout)) }
        defer { timer.cancel() }
        let grant = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                var waiter = Waiter(id: id, continuation: continuation, want: weights, excluded: retryExcluding)
                waiter.background = background
                enum Outcome { case queued(Placed), rejected(any Error) }
                let outcome: Outcome = state.withLock { s in
                    if s.closed { return .rejected(QueueError.shuttingDown) }
                    if front {
                        s.retries.append(waiter)
                        s.waiting += 1
                    } else if retryExcluding != nil {
                        if s.slots.count < 2 { return .rejected(QueueError.noOtherWorker) }
                        s.retries.append(waiter)
                        s.waiting += 1
                    } else {
                        // Checked again under the lock that admits: a place may have opened meanwhile.
                        if s.waiting >= maxWaiting && s.free(excluding: nil).isEmpty { return .rejected(QueueError.full(waiting: s.waiting)) }
                        s.append(waiter, lane: lane)
                    }
                    return .queued(Self.dispatch(&s, policy: policy))
                }
                switch outcome {
                case .queued(let placed):
                    if placed.stillWaiting { waitingHook.withLock { $0 }?() }
                    resume(placed)
                    if Task.isCancelled { remove(id, with: CancellationError()) }
                case .rejected(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            remove(id, with: CancellationError())
        }
        return QueueLease(queue: self, slot: grant.slot, switchTo: grant.switchTo)
    }

    /// What one dispatch decided: the grants to hand out and, when a waiter was held back from a switch, when to
    /// look again.
    private struct Placed {
        var grants: [(CheckedContinuation<Grant, any Error>, Grant)] = []
        var wake: ContinuousClock.Instant?
        /// Requests still wait after it.
        var stillWaiting = false
    }

    /// Every placement possible now; the caller resumes the continuations outside the lock.
    private static func dispatch(_ s: inout State, policy: Policy) -> Placed {
        var placed = Placed()
        s.wantWake = nil
        while s.waiting > 0, let next = s.placeOne(policy: policy, maxSkips: maxSkips) { placed.grants.append(next) }
        placed.stillWaiting = s.waiting > 0
        if s.waiting > 0, let want = s.wantWake, s.scheduledWake.map({ want < $0 }) ?? true {
            s.scheduledWake = want
            placed.wake = want
        }
        return placed
    }

    private func resume(_ placed: Placed) {
        for (c, g) in placed.grants { c.resume(returning: g) }
        guard let wake = placed.wake else { return }
        Task { [weak self] in
            try? await Task.sleep(until: wake, clock: .continuous)
            self?.update { s in
                if s.scheduledWake == wake { s.scheduledWake = nil }
            }
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let placed = state.withLock { s in
            change(&s)
            return Self.dispatch(&s, policy: policy)
        }
        resume(placed)
    }

    func onWaiting(_ hook: @escaping @Sendable () -> Void) { waitingHook.withLock { $0 = hook } }

    /// What the other gateways sharing the workers hold and whether they wait (`WorkerLeaseBoard`).
    public func setShared(elsewhere: [Int], othersWaiting: Bool) {
        update { s in
            for (slot, held) in elsewhere.enumerated() where slot < s.slots.count {
                s.slots[slot].elsewhere = held
                if held > 0 || !othersWaiting { s.slots[slot].handoffUntil = nil }
            }
            s.othersWaiting = othersWaiting
        }
    }

    /// Whether, as last read from the board, another gateway sharing the workers has requests waiting.
    var othersWaiting: Bool { state.withLock { $0.othersWaiting } }

    /// Another gateway gave a place back on this worker.
    func freedElsewhere(slot: Int) {
        update { s in if s.slots[slot].elsewhere > 0 { s.slots[slot].elsewhere -= 1 } }
    }

    /// Another gateway took the place this one was about to: full until the next look at the board.
    func heldElsewhere(slot: Int) {
        update { $0.slots[slot].elsewhere = $0.slots[slot].capacity }
    }

    /// A worker's health as the monitor or a failed connection found it.
    public func setUp(slot: Int, _ up: Bool) { update { $0.slots[slot].up = up } }

    /// A draining worker finishes what it runs and takes nothing more; resuming gives it work again.
    public func setDraining(slot: Int, _ draining: Bool) { update { $0.slots[slot].draining = draining } }

    /// The switch a grant ordered is over: the worker has `weights` loaded (nil: unknown, after a failed switch).
    func switched(slot: Int, to weights: ModelWeights?) {
        update { s in
            s.slots[slot].switching = false
            s.slots[slot].loaded = weights
            if weights != nil { s.measureSwitch(slot: slot) } else { s.slots[slot].switchStarted = nil }
        }
    }

    /// Refuses new waiters; those waiting still get their turn.
    public func close() {
        state.withLock { $0.closed = true }
    }

    private func remove(_ id: UInt64, with error: any Error) {
        let waiter: Waiter? = state.withLock { $0.remove(id) }
        waiter?.continuation.resume(throwing: error)
    }

    fileprivate func release(slot: Int) {
        var offered = false
        update { s in
            s.slots[slot].running -= 1
            s.tick += 1
            s.slots[slot].lastUsed = s.tick
            // Fair between gateways: while another one waits, the worker goes there first (its waiter takes it
            // within the handoff, or this gateway's next does after it).
            if s.othersWaiting && s.waiting > 0 {
                s.slots[slot].handoffUntil = .now + Self.handoff
                offered = true
            }
        }
        if offered {
            _ = Deadline.after(Self.handoff.seconds + 0.001) { [weak self] in self?.update { _ in } }
        }
    }
}

/// A place on one worker. Released once, explicitly or, as a safety net, when dropped.
public final class QueueLease: Sendable {
    private let queue: FairQueue
    /// The worker, as its index in the pool.
    public let slot: Int
    /// Weights to load on the worker before the request: it has others.
    public let switchTo: ModelWeights?
    private let released = Atomic<Bool>(false)

    fileprivate init(queue: FairQueue, slot: Int, switchTo: ModelWeights?) {
        self.queue = queue
        self.slot = slot
        self.switchTo = switchTo
    }

    /// Reports the ordered switch done (or failed: the worker's weights are then unknown).
    public func switched(_ succeeded: Bool) {
        guard let switchTo else { return }
        queue.switched(slot: slot, to: succeeded ? switchTo : nil)
    }

    public func release() {
        if !released.exchange(true, ordering: .acquiringAndReleasing) { queue.release(slot: slot) }
    }

    deinit { release() }
}
