import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SQLKit
import Synchronization

/// The workers' places, shared by every gateway on one PostgreSQL, so that a worker never runs more requests than
/// its capacity whichever gateways they came through (api_v2 mixes the voices of two at once).
///
/// Each gateway's own `FairQueue` still decides who goes where; before a request starts on a worker, its gateway
/// claims a place in `worker_leases` with one conditional upsert (a place nobody holds, or whose lease expired). A
/// claim another gateway won sends the request back to the front of its line. Leases are renewed every 2 s and
/// expire 10 s after the last renewal, so a gateway that dies (`kill -9`, cut off) gives its places back within 10 s.
/// What the others hold, and whether they have requests waiting, is read from the board every 100 ms and at once on
/// `NOTIFY voicegate_workers` (sent when a place is freed or a gateway starts waiting: a hint, the polling is the
/// floor); the queue then keeps those places off its own waiters, and offers a freed worker to a waiting gateway
/// first (`FairQueue.handoff`), so that one gateway's backlog cannot starve another's requests. While another gateway
/// waits, a freed place is not given back but handed to it in the same statement (`given` names it): its next
/// request starts there without a claim of its own, one database round trip sooner.
public final class WorkerLeaseBoard: Service, Sendable {
    static let channel = "voicegate_workers"
    static let ttl: Int64 = 10_000
    static let renewEvery: Duration = .seconds(2)
    static let lookEvery: Duration = .milliseconds(100)
    /// The database's clock, so that gateways whose clocks differ agree on what expired.
    static let nowMillis = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"

    let backend: PostgresBackend
    let gateway: String
    let pool: WorkerPool
    let logger: Logger
    private let wake = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    private let published = Mutex<Bool>(false)
    /// Requests of this gateway that hold or are claiming a place: only their leases are renewed, and any other
    /// lease in this gateway's name (a claim whose answer never came back) is removed.
    private let active = Mutex<Set<String>>([])
    /// Requests of this gateway that have ended while their place is still being given back: the next request of
    /// this gateway on that worker takes such a place over in its claim, so that the worker's next request waits for
    /// one round trip to the database, not two (the give-back's and then its own claim's).
    private let ending = Mutex<Set<String>>([])
    /// Places another gateway handed to this one, by worker name: the next request here on that worker starts on
    /// one without a claim.
    private let given = Mutex<[String: [Claimed]]>([:])
    /// How many requests here started on a place handed over by another gateway (tests and the note).
    let handedOver = Atomic<Int>(0)
    /// How long a handed place waits here for a request to take it before it is given back.
    static let givenHold: Duration = .milliseconds(100)
    /// Which gateways hold each worker, as last read (this one included), for `GET workers` and the console.
    private let holders = Mutex<[String: [String]]>([:])

    public func holders(of worker: String) -> [String] { holders.withLock { $0[worker] ?? [] } }

    /// The weights `worker` has loaded as the gateways last recorded them (read after claiming it: another gateway
    /// may have switched them since this one's queue last looked).
    func weights(of worker: Worker) async throws -> ModelWeights? {
        let row = try await backend.db.select().columns("gpt_weights", "sovits_weights").from("worker_state")
            .where("worker", .equal, worker.name).first()
        guard let row else { return nil }
        return ModelWeights.pair(gpt: try row.decode(column: "gpt_weights", as: String?.self),
                                 sovits: try row.decode(column: "sovits_weights", as: String?.self))
    }

    /// After a switch made under this gateway's lease (nil: failed, unknown now).
    func noteWeights(_ weights: ModelWeights?, on worker: Worker) async throws {
        try await backend.db.raw("""
            INSERT INTO worker_state (worker, gpt_weights, sovits_weights, draining)
            VALUES (\(bind: worker.name), \(bind: weights?.gpt), \(bind: weights?.sovits), FALSE)
            ON CONFLICT (worker) DO UPDATE SET gpt_weights = excluded.gpt_weights, sovits_weights = excluded.sovits_weights
            """).run()
    }

    /// Drained or resumed through any gateway: every gateway's queue follows at its next look.
    public func setDraining(_ worker: String, _ draining: Bool) async throws {
        try await backend.db.raw("""
            INSERT INTO worker_state (worker, draining) VALUES (\(bind: worker), \(bind: draining))
            ON CONFLICT (worker) DO UPDATE SET draining = excluded.draining
            """).run()
        try await backend.db.raw("SELECT pg_notify('\(unsafeRaw: Self.channel)', 'drain')").run()
    }

    init(backend: PostgresBackend, gateway: String, pool: WorkerPool, logger: Logger) {
        self.backend = backend
        self.gateway = gateway
        self.pool = pool
        self.logger = logger
        // A request that has to wait is told to the other gateways at once, not at the next look.
        pool.queue.onWaiting { [wake] in wake.continuation.yield() }
    }

    /// A place on the board, and the request id its lease is held under.
    struct Claimed: Sendable {
        let place: Int
        let request: String
    }

    /// A place on `worker` for one request, or nil when other gateways hold every place (or took the one this
    /// statement chose at the same moment: the request then goes back to its line and tries again).
    /// A place another gateway handed here is taken without asking the database (its lease keeps the id it was
    /// handed under). Otherwise one statement whatever the worker's capacity: the first place nobody holds,
    /// inserted, or taken over when its lease ran out.
    func claim(_ worker: Worker, request: String, key: String) async throws -> Claimed? {
        if let handed = takeGiven(worker.name) {
            active.withLock { _ = $0.insert(handed.request) }
            handedOver.add(1, ordering: .relaxed)
            return handed
        }
        active.withLock { _ = $0.insert(request) }
        var won: Int?
        defer { if won == nil { active.withLock { _ = $0.remove(request) } } }
        let ended = Array(ending.withLock { $0 })
        /// Whether the lease in `table` is one of this gateway's ending requests'.
        func endedHere(_ table: String) -> SQLQueryString {
            ended.isEmpty ? "FALSE" : "(\(ident: table).gateway = \(bind: gateway) AND \(ident: table).request_id IN (\(binds: ended)))"
        }
        let row = try await backend.db.raw("""
            INSERT INTO worker_leases (worker, place, gateway, request_id, key_name, expires_at)
            SELECT \(bind: worker.name), slots.place, \(bind: gateway), \(bind: request), \(bind: key), \(unsafeRaw: Self.nowMillis) + \(bind: Self.ttl)
            FROM generate_series(0, \(bind: worker.spec.concurrency - 1)) AS slots(place)
            WHERE NOT EXISTS (SELECT 1 FROM worker_leases held WHERE held.worker = \(bind: worker.name) AND held.place = slots.place
                              AND held.expires_at >= \(unsafeRaw: Self.nowMillis) AND NOT \(endedHere("held")))
            ORDER BY slots.place LIMIT 1
            ON CONFLICT (worker, place) DO UPDATE SET gateway = excluded.gateway, request_id = excluded.request_id,
                key_name = excluded.key_name, expires_at = excluded.expires_at
            WHERE worker_leases.expires_at < \(unsafeRaw: Self.nowMillis) OR \(endedHere("worker_leases"))
            RETURNING place
            """).first()
        guard let row else { return nil }
        won = try row.decode(column: "place", as: Int.self)
        return won.map { Claimed(place: $0, request: request) }
    }

    /// A place handed here on `worker` (the one handed under `request`, or the oldest), taken off the list.
    private func takeGiven(_ worker: String, request: String? = nil) -> Claimed? {
        given.withLock { given in
            guard let index = given[worker]?.firstIndex(where: { request == nil || $0.request == request }) else { return nil }
            let taken = given[worker]?.remove(at: index)
            if given[worker]?.isEmpty == true { given[worker] = nil }
            return taken
        }
    }

    /// The request has ended: from now on this gateway's next claim on its worker may take its place over.
    func ended(request: String) {
        active.withLock { _ = $0.remove(request) }
        ending.withLock { _ = $0.insert(request) }
    }

    /// Gives the place of a request marked `ended` back (unless this gateway's next request took it over already) and
    /// tells the other gateways; while one of them waits, hands it to that one instead (`given`), in one statement.
    /// `handOn` false: a place handed here that nobody here wants goes back to nobody, not on to another gateway (two
    /// gateways whose "waiting" went stale would otherwise pass it to and fro).
    func release(_ worker: Worker, place: Int, request: String, handOn: Bool = true) async {
        defer { ending.withLock { _ = $0.remove(request) } }
        do {
            if handOn && pool.queue.othersWaiting {
                try await handOver(worker, place: place, request: request)
            } else {
                try await backend.db.raw("""
                    WITH gone AS (DELETE FROM worker_leases WHERE worker = \(bind: worker.name) AND place = \(bind: place)
                        AND request_id = \(bind: request) RETURNING 1)
                    SELECT pg_notify('\(unsafeRaw: Self.channel)', \(bind: "free \(gateway) \(worker.name)")) FROM gone
                    """).run()
            }
        } catch {
            // It expires by itself within the lease's time.
            logger.warning("workers: cannot give back \(worker.name)'s place (it expires within 10 s): \(StoreError.reason(error))")
        }
    }

    /// The place goes to a gateway that waits (its lease renamed to a fresh id in that gateway's name, and
    /// `given<TAB>GATEWAY<TAB>WORKER<TAB>PLACE<TAB>ID` told), or back to nobody when none waits any more.
    private func handOver(_ worker: Worker, place: Int, request: String) async throws {
        let fresh = SQLGatewayStore.millis(Date().addingTimeInterval(-GatewayPresence.staleAfter))
        let handed = "given-" + UUID().uuidString
        let held = SQLQueryString("worker = \(bind: worker.name) AND place = \(bind: place) AND request_id = \(bind: request)")
        try await backend.db.raw("""
            WITH next AS (SELECT name FROM gateways WHERE name <> \(bind: gateway) AND waiting > 0 AND seen_at >= \(bind: fresh)
                          ORDER BY random() LIMIT 1),
            handed AS (UPDATE worker_leases SET gateway = next.name, request_id = \(bind: handed),
                           expires_at = \(unsafeRaw: Self.nowMillis) + \(bind: Self.ttl)
                       FROM next WHERE \(held) RETURNING worker_leases.gateway),
            gone AS (DELETE FROM worker_leases WHERE \(held) AND NOT EXISTS (SELECT 1 FROM next) RETURNING 1)
            SELECT pg_notify('\(unsafeRaw: Self.channel)', concat_ws(E'\\t', 'given', handed.gateway, CAST(\(bind: worker.name) AS TEXT),
                             CAST(\(bind: String(place)) AS TEXT), CAST(\(bind: handed) AS TEXT))) FROM handed
            UNION ALL
            SELECT pg_notify('\(unsafeRaw: Self.channel)', \(bind: "free \(gateway) \(worker.name)")) FROM gone
            """).run()
    }

    /// Another gateway handed this one a place: a waiting request here takes it (the queue offers it the worker at
    /// once); if none does within `givenHold`, it is given back (or on to another waiting gateway).
    private func received(worker name: String, place: Int, request: String) {
        guard let worker = pool.worker(named: name) else { return }
        let claimed = Claimed(place: place, request: request)
        guard pool.queue.snapshot.waiting > 0 else {
            Task { await self.release(worker, place: place, request: request, handOn: false) }
            return
        }
        given.withLock { $0[name, default: []].append(claimed) }
        pool.queue.freedElsewhere(slot: worker.slot)
        Task {
            try? await Task.sleep(for: Self.givenHold)
            if self.takeGiven(name, request: request) != nil {
                await self.release(worker, place: place, request: request, handOn: false)
            }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.listen() }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.lookEvery)
                        self.wake.continuation.yield()
                    }
                }
                group.addTask { await self.look() }
                await group.next()
                group.cancelAll()
            }
        }
        // Stopped after the HTTP server drained: nothing of ours runs any more.
        _ = try? await backend.db.raw("DELETE FROM worker_leases WHERE gateway = \(bind: gateway)").run()
    }

    /// The wake-up hint: `LISTEN` on a connection of its own, again after a second when it breaks.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await backend.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        for try await notification in notifications {
                            self.heard(notification.payload)
                            self.wake.continuation.yield()
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("workers: listening for the other gateways failed, polling meanwhile: \(StoreError.reason(error))")
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// `free GATEWAY WORKER` from another gateway: a place there is free now. The queue may use it at once, before
    /// the look this also wakes (a claim that loses the race sends its request back to the front of the line).
    /// `given ...` naming this gateway: a place handed here.
    private func heard(_ payload: String) {
        let given = payload.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        if given.count == 5, given[0] == "given" {
            if given[1] == gateway, let place = Int(given[3]) { received(worker: given[2], place: place, request: given[4]) }
            return
        }
        let words = payload.split(separator: " ", maxSplits: 2).map(String.init)
        guard words.count == 3, words[0] == "free", words[1] != gateway, let worker = pool.worker(named: words[2]) else { return }
        pool.queue.freedElsewhere(slot: worker.slot)
    }

    private func look() async {
        var lastRenewal = ContinuousClock.now
        for await _ in wake.stream {
            if Task.isCancelled { return }
            do {
                try await publishWaiting()
                if ContinuousClock.now - lastRenewal >= Self.renewEvery {
                    try await renew()
                    lastRenewal = .now
                }
                try await read()
            } catch {
                logger.debug("workers: cannot read the board: \(StoreError.reason(error))")
                // The claim, not this reading, decides who runs: while the board cannot be read, waiters go on to
                // claim, which answers 503 at once when the database is gone (instead of their waiting out
                // QUEUE_TIMEOUT behind what another gateway held when last read), or sends them back if still held.
                pool.queue.setShared(elsewhere: pool.workers.map { _ in 0 }, othersWaiting: false)
            }
        }
    }

    /// Keeps this gateway's running requests' leases and drops any other in its name that was not claimed in the
    /// last 3 s (a claim may be on its way while this runs; one whose answer was lost is older than that).
    private func renew() async throws {
        let running = Array(active.withLock { $0 })
        let renewed = SQLRaw("\(Self.nowMillis) + \(Self.ttl)")
        let stale = SQLRaw("\(Self.nowMillis) + \(Self.ttl - 3000)")
        try await backend.transaction { [gateway] db in
            if !running.isEmpty {
                try await db.update("worker_leases").set("expires_at", to: renewed)
                    .where("gateway", .equal, gateway).where("request_id", .in, running).run()
            }
            let orphans = db.delete(from: "worker_leases").where("gateway", .equal, gateway).where("expires_at", .lessThan, stale)
            if !running.isEmpty { orphans.where("request_id", .notIn, running) }
            try await orphans.run()
        }
    }

    /// Whether this gateway has requests waiting, written when it changes (with a hint to the others).
    private func publishWaiting() async throws {
        let waiting = pool.queue.snapshot.waiting
        guard published.withLock({ $0 }) != (waiting > 0) else { return }
        try await backend.db.raw("""
            UPDATE gateways SET waiting = \(bind: waiting) WHERE name = \(bind: gateway)
            """).run()
        if waiting > 0 { try await backend.db.raw("SELECT pg_notify('\(unsafeRaw: Self.channel)', 'waiting')").run() }
        published.withLock { $0 = waiting > 0 }
    }

    /// What the others hold now, whether any of them waits, and each worker's shared state.
    private func read() async throws {
        let rows = try await backend.db.raw("""
            SELECT worker, gateway FROM worker_leases WHERE expires_at >= \(unsafeRaw: Self.nowMillis) ORDER BY gateway
            """).all()
        var held: [String: Int] = [:]
        var byWorker: [String: [String]] = [:]
        for row in rows {
            let (worker, holder) = (try row.decode(column: "worker", as: String.self), try row.decode(column: "gateway", as: String.self))
            byWorker[worker, default: []].append(holder)
            if holder != gateway { held[worker, default: 0] += 1 }
        }
        holders.withLock { $0 = byWorker }
        for row in try await backend.db.select().columns("worker", "draining").from("worker_state").all() {
            let name = try row.decode(column: "worker", as: String.self)
            let draining = try row.decode(column: "draining", as: Bool.self)
            if let worker = pool.worker(named: name), worker.snapshot.draining != draining {
                _ = draining ? pool.drain(name) : pool.resume(name)
            }
        }
        let fresh = SQLGatewayStore.millis(Date().addingTimeInterval(-GatewayPresence.staleAfter))
        let waiting = try await backend.db.raw("""
            SELECT CAST(COUNT(*) AS BIGINT) AS n FROM gateways WHERE name <> \(bind: gateway) AND waiting > 0 AND seen_at >= \(bind: fresh)
            """).first()?.decode(column: "n", as: Int.self) ?? 0
        pool.queue.setShared(elsewhere: pool.workers.map { held[$0.name] ?? 0 }, othersWaiting: waiting > 0)
    }
}
