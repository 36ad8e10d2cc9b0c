import Foundation
import Logging
import NIOCore

/// The one path every synthesis takes, from HTTP or the console: queue, worker, weights, engine, header check, result.
public final class SynthesisService: Sendable {
    public let pool: WorkerPool
    /// The workers' places shared with other gateways on one PostgreSQL; nil for a gateway alone.
    let board: WorkerLeaseBoard?
    private let timeout: Double
    private let queueTimeout: Double

    /// No real model answers at 16 kHz: GPT-SoVITS sends one second of 16 kHz silence when inference fails.
    static let failureSampleRate = 16000
    /// Largest non-audio or failure answer that is read whole to inspect it.
    static let maxHeaderProbe = 64 * 1024

    public init(pool: WorkerPool, board: WorkerLeaseBoard? = nil, timeout: Double, queueTimeout: Double) {
        self.pool = pool
        self.board = board
        self.timeout = timeout
        self.queueTimeout = queueTimeout
    }

    public var queue: FairQueue { pool.queue }

    /// `gpt-sovits`, `adapter` or `espeak-ng (embedded)`: every worker speaks the same protocol.
    public var engineName: String { pool.workers[0].engine.name }

    /// `lane` is the fair queue's lane (the key's name); `trace` hears the timings; `background` (a job's item) lets
    /// the lane's other requests go first. A request that could not connect to its worker is tried once more on
    /// another; once a worker has answered it is never retried.
    public func synthesize(_ request: SynthesisRequest, ticket: UInt64? = nil, lane: String = "", background: Bool = false,
                           trace: SynthesisTrace? = nil) async throws -> SynthesisResult {
        let queued = ContinuousClock.now
        let weights = pool.loadsWeights ? request.weights : nil
        var place = try await acquire {
            try await queue.acquire(ticket: ticket, lane: lane, weights: weights, background: background, timeout: queueTimeout)
        }
        var retried = false
        while true {
            let worker = pool.workers[place.slot]
            var shared: WorkerLease.SharedPlace?
            if let board {
                let id = UUID().uuidString
                let claimed: WorkerLeaseBoard.Claimed?
                do {
                    claimed = try await board.claim(worker, request: id, key: lane)
                } catch {
                    place.release()
                    throw GatewayError.storeUnavailable(error)
                }
                guard let claimed else {
                    // Another gateway took it as this one gave it: back to the front of the line.
                    queue.heldElsewhere(slot: worker.slot)
                    place.release()
                    let left = max(0.001, queueTimeout - (ContinuousClock.now - queued).seconds)
                    place = try await acquire { try await queue.acquire(ticket: ticket, lane: lane, weights: weights, front: true, timeout: left) }
                    continue
                }
                shared = .init(board: board, place: claimed.place, request: claimed.request)
            }
            // With shared workers another gateway may have switched this one's weights since the queue looked.
            var switchTo = place.switchTo
            if let board, let want = weights {
                let loaded: ModelWeights?
                do { loaded = try await board.weights(of: worker) } catch {
                    WorkerLease(worker: worker, place: place, job: worker.begin(key: lane, voice: request.voice), shared: shared).release(.abandoned)
                    throw GatewayError.storeUnavailable(error)
                }
                if loaded == want, switchTo != nil {
                    place.switched(true)
                    switchTo = nil
                } else if loaded != want {
                    switchTo = want
                }
            }
            let started = ContinuousClock.now
            trace?.update { $0.queueWait = (started - queued).seconds; $0.worker = worker.name }
            let lease = WorkerLease(worker: worker, place: place, job: worker.begin(key: lane, voice: request.voice), shared: shared)
            do {
                if let weights = switchTo {
                    do {
                        try await pool.switchWeights(worker, lease: place, to: weights, timeout: timeout)
                        try await board?.noteWeights(weights, on: worker)
                    } catch {
                        try? await board?.noteWeights(nil, on: worker)
                        throw error
                    }
                }
                let reader = try await worker.engine.synthesize(request, timeout: timeout)
                let (header, contentLength) = try await Self.readHeader(reader, streaming: request.stream)
                return SynthesisResult(header: header, contentLength: contentLength, queueWait: (started - queued).seconds,
                                       upstreamTime: (ContinuousClock.now - started).seconds, streaming: request.stream,
                                       reader: reader, lease: lease, trace: trace, leftQueue: started)
            } catch let error as GatewayError where error.couldNotConnect {
                lease.release(.failed)
                pool.record(.down(reason: (error.details?["reason"]).flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "cannot connect"),
                            for: worker, checked: false)
                guard !retried, pool.workers.count > 1 else { throw error }
                retried = true
                do {
                    place = try await queue.acquire(lane: lane, weights: weights, retryExcluding: worker.slot, timeout: queueTimeout)
                } catch let queueError as QueueError {
                    throw queueError == .noOtherWorker ? error : Self.map(queueError)
                }
            } catch {
                lease.release(error is CancellationError || (error as? GatewayError)?.statusCode == 499 ? .abandoned : .failed)
                throw error
            }
        }
    }

    private func acquire(_ body: () async throws -> QueueLease) async throws -> QueueLease {
        do {
            return try await body()
        } catch let error as QueueError {
            throw Self.map(error)
        }
    }

    static func map(_ error: QueueError) -> GatewayError {
        switch error {
        case .full(let waiting):
            return GatewayError(503, "queue_full", "the upstream queue is full (\(waiting) waiting); retry shortly",
                                details: ["waiting": .int(waiting)], retryAfter: 5)
        case .timedOut(let after):
            return GatewayError(503, "queue_timeout", "waited \(Int(after)) s for the upstream without getting a turn; retry later",
                                retryAfter: 10)
        case .shuttingDown:
            return GatewayError(503, "shutting_down", "the gateway is shutting down", retryAfter: 30)
        case .allDraining:
            return GatewayError(503, "workers_draining", "every worker is draining; an operator resumes them (POST workers/{name}/resume)",
                                retryAfter: 30)
        case .noOtherWorker:
            return GatewayError(502, "upstream_unavailable", "no other worker could take the request")
        }
    }

    /// Reads until the WAV header is complete and checks the answer is real audio.
    /// Streams get a header whose sizes say "unknown", which players accept while streaming.
    static func readHeader(_ reader: ByteChunkReader, streaming: Bool) async throws -> (WAVHeader, Int?) {
        var buffered = ByteBuffer()
        var header: WAVHeader?
        while header == nil {
            guard var chunk = try await nextOrStreamError(reader) else { break }
            buffered.writeBuffer(&chunk)
            header = WAVHeader.parse(Array(buffered.readableBytesView.prefix(Self.maxHeaderProbe)))
            if header == nil && buffered.readableBytes >= Self.maxHeaderProbe { break }
        }
        guard let header else {
            if buffered.readableBytes == 0 {
                throw GatewayError.upstream("the upstream ended its answer before sending any audio")
            }
            let preview = String(decoding: buffered.readableBytesView.prefix(200), as: UTF8.self)
            throw GatewayError(502, "upstream_bad_response", "the upstream answered with something that is not WAV audio",
                               details: ["preview": .string(preview)])
        }
        if let problem = header.formatProblem {
            throw GatewayError(502, "upstream_bad_response", "the upstream's WAV header declares \(problem)")
        }
        let dataEnd = header.dataOffset + header.dataSize
        if !streaming, !header.dataSizeIsUnknown, let declared = reader.declaredLength, declared < dataEnd {
            throw GatewayError(502, "upstream_bad_response",
                               "the upstream's WAV header declares \(dataEnd) bytes but its answer holds \(declared)",
                               details: ["declared_bytes": .int(dataEnd), "content_length": .int(declared)])
        }
        if header.sampleRate == Self.failureSampleRate, !streaming, !header.dataSizeIsUnknown,
           header.dataSize <= Self.maxHeaderProbe {
            while buffered.readableBytes < header.dataOffset + header.dataSize, var chunk = try await nextOrStreamError(reader) {
                buffered.writeBuffer(&chunk)
            }
            let samples = buffered.readableBytesView.dropFirst(header.dataOffset)
            if samples.allSatisfy({ $0 == 0 }) {
                throw GatewayError(502, "upstream_inference_failed",
                                   "the upstream's inference failed (it answered with silence at 16 kHz, its failure signal; often GPU out of memory)",
                                   details: ["sample_rate": .int(header.sampleRate), "data_bytes": .int(header.dataSize)])
            }
        }
        if streaming {
            buffered.moveReaderIndex(forwardBy: min(header.dataOffset, buffered.readableBytes))
            reader.pushBack(buffered)
            let fresh = WAVHeader.canonical(sampleRate: header.sampleRate, channels: header.channels,
                                            bitsPerSample: header.bitsPerSample, dataSize: nil)
            reader.pushBack(ByteBuffer(bytes: fresh))
            return (header, nil)
        }
        reader.pushBack(buffered)
        return (header, header.dataSizeIsUnknown ? nil : dataEnd)
    }

    private static func nextOrStreamError(_ reader: ByteChunkReader) async throws -> ByteBuffer? {
        do {
            return try await reader.next()
        } catch let error as GatewayError {
            throw error
        } catch {
            throw GatewayError.upstream("the upstream connection failed while sending audio: \(error)")
        }
    }
}

extension Duration {
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
