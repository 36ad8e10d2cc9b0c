import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SovitsDouble
import Synchronization
import VoiceGateCore

/// The worker pool's benchmark: 1, 2 and 4 api_v2 doubles (200 ms inference each) behind one in-process gateway,
/// 32 clients keeping a backlog. Reports throughput against N times one worker's (same run, same gateway), the idle
/// gap each double sees between one request's end and the next one's start, and weight switches for a two-voice
/// workload with affinity against round-robin. With `--gateways N --store-url postgres://...` each round also runs N
/// gateways sharing the doubles through PostgreSQL (the clients spread over them), beside the one gateway.
///
///     swift run -c release pool-bench [--rounds 3] [--seconds 10] [--clients 32] [--inference-ms 200] [--workers 1,2,4]
///                                     [--gateways 2 --store-url postgres://USER:PASSWORD@HOST:PORT/DB] [--no-switches]
///     swift run -c release pool-bench --jobs [--rounds 5]: one long-form job's backlog against 32 clients' on one
///                                     worker (the job's items one at a time; the idle gap between two of them)
///     swift run -c release pool-bench --job-items 1000 [--workers 2] [--rounds 3]: one job of that many items run to
///                                     its end, one at a time and `parallel` = workers at a time, against the workers'
///                                     capacity and 32 clients on the same workers; the process's memory during it
struct Options {
    var rounds = 3
    var seconds = 10.0
    var clients = 32
    var inferenceMs = 200
    var workers = [1, 2, 4]
    var gateways = 1
    var storeURL: String?
    var switches = true
    var jobs = false
    var jobItems: Int?

    init(_ args: [String]) {
        var i = 0
        func next() -> String { i += 1; return i < args.count ? args[i] : "" }
        while i < args.count {
            switch args[i] {
            case "--rounds": rounds = Int(next()) ?? rounds
            case "--seconds": seconds = Double(next()) ?? seconds
            case "--clients": clients = Int(next()) ?? clients
            case "--inference-ms": inferenceMs = Int(next()) ?? inferenceMs
            case "--workers": workers = next().split(separator: ",").compactMap { Int($0) }
            case "--gateways": gateways = Int(next()) ?? gateways
            case "--store-url": storeURL = next()
            case "--no-switches": switches = false
            case "--jobs": jobs = true
            case "--job-items": jobItems = Int(next())
            default: FileHandle.standardError.write(Data("unknown option \(args[i])\n".utf8)); exit(2)
            }
            i += 1
        }
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let apiKey = "pool-bench-key-0123456789abcdef"
let quiet = Logger(label: "pool-bench") { _ in SwiftLogNoOpLogHandler() }

/// 3.5 s of a tone at 16 kHz: a reference the gateway accepts (stored once, then found by its hash).
func reference() -> [UInt8] {
    let rate = 16000
    var pcm = [UInt8]()
    pcm.reserveCapacity(rate * 7)
    for i in 0..<(rate * 7 / 2) {
        let v = Int16(6000 * sin(2 * Double.pi * 180 * Double(i) / Double(rate)))
        pcm.append(UInt8(truncatingIfNeeded: v))
        pcm.append(UInt8(truncatingIfNeeded: v >> 8))
    }
    return WAVHeader.canonical(sampleRate: rate, dataSize: pcm.count) + pcm
}

func multipart(_ fields: [(String, String)], file: [UInt8]?) -> (String, ByteBuffer) {
    let boundary = "pool-bench-\(UInt32.random(in: 0...UInt32.max))"
    var body = ByteBuffer()
    for (name, value) in fields {
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
    }
    if let file {
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"reference_audio\"; filename=\"ref.wav\"\r\nContent-Type: audio/wav\r\n\r\n")
        body.writeBytes(file)
        body.writeString("\r\n")
    }
    body.writeString("--\(boundary)--\r\n")
    return ("multipart/form-data; boundary=\(boundary)", body)
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    // Nearest rank.
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

func median(_ values: [Double]) -> Double { percentile(values, 50) }

struct Measured {
    var throughput: Double
    var gaps: [Double]
    var requests: Int
    var errors: Int
    var switches: Int
    /// A job run to its end: the process's resident MiB each second while it ran.
    var resident: [Double] = []
}

/// A job instead of clients: `items` (nil: more than the window takes) run `parallel` at a time.
struct JobLoad {
    var items: Int?
    var parallel = 1
}

/// This process's resident memory (gateway, doubles and clients together), in MiB.
func residentMiB() -> Double {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return .nan }
    let pages = statm.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? .nan
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

/// One gateway in front of `count` doubles; `voices` > 0 makes that many voices with their own weights and spreads
/// the requests over them.
func measure(workers count: Int, policy: String = "affinity", voices: Int = 0, gateways gatewayCount: Int = 1,
             store: String? = nil, job: JobLoad? = nil) async throws -> Measured {
    var doubleOptions = SovitsDoubleOptions()
    doubleOptions.inferenceDelay = .milliseconds(options.inferenceMs)
    doubleOptions.silentOutput = true
    var servers: [SovitsDoubleServer] = []
    for _ in 0..<count { servers.append(try await .start(SovitsDouble(options: doubleOptions))) }
    let data = NSTemporaryDirectory() + "pool-bench-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: data) }
    var gateways: [Gateway] = []
    var groups: [ServiceGroup] = []
    var runs: [Task<Void, any Error>] = []
    var bases: [String] = []
    for g in 0..<gatewayCount {
        var vars = ["API_KEY": apiKey, "PORT": "0", "DATA_DIR": data + "/g\(g)", "SOVITS_REF_DIR": data + "/refs",
                    "SOVITS_WORKERS": servers.map(\.url).joined(separator: ","), "GATEWAY_NAME": "bench-\(g)",
                    "QUEUE_MAX": "10000", "QUEUE_TIMEOUT": "600", "WORKER_POLICY": policy, "LOG_LEVEL": "error", "HEALTH_INTERVAL": "5"]
        if let store { vars["STORE_URL"] = store }
        let gateway = try await Gateway(config: try GatewayConfig.from(vars), logger: quiet)
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = gateway.makeApplication { portSink.yield($0.localAddress!.port!); portSink.finish() }
        let group = ServiceGroup(configuration: .init(services: gateway.backgroundServices + [app], logger: quiet))
        runs.append(Task { try await group.run() })
        var port = 0
        for await p in ports { port = p }
        gateways.append(gateway)
        groups.append(group)
        bases.append("http://127.0.0.1:\(port)")
    }
    let base = bases[0]

    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let ref = reference()

    let post: @Sendable (String, String, ByteBuffer, String) async throws -> Int = { path, contentType, body, base in
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "X-API-Key", value: apiKey)
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(body)
        let response = try await client.execute(request, timeout: .seconds(600))
        _ = try await response.body.collect(upTo: 64 << 20)
        return Int(response.status.code)
    }

    let names = (0..<voices).map { "voice\($0)" }
    for name in names {
        let (type, body) = multipart([("name", name), ("prompt_text", "A tone for a benchmark."), ("gpt_weights", "GPT_weights_v2/\(name).ckpt"),
                                      ("sovits_weights", "SoVITS_weights_v2/\(name).pth")], file: ref)
        guard try await post("/api/v1/voices", type, body, base) == 201 else { fatalError("could not save \(name)") }
    }

    let tally = Tally()
    if let job {
        // One job; no other client.
        let (type, body) = multipart([("name", "narrator"), ("prompt_text", "A tone for a benchmark.")], file: ref)
        guard try await post("/api/v1/voices", type, body, base) == 201 else { fatalError("could not save the voice") }
        let count = job.items ?? Int(options.seconds * 2000 / Double(options.inferenceMs)) + 100
        let items = (0..<count).map { ["text": "Item \($0) of the job."] }
        let json = try JSONSerialization.data(withJSONObject: ["voice": "narrator", "items": items, "parallel": job.parallel])
        guard try await post("/api/v1/jobs", "application/json", ByteBuffer(data: json), base) == 202 else { fatalError("could not submit the job") }
    }
    if let items = job?.items {
        // To its end: items per second from the first item's start to the last one's end at the doubles.
        var resident: [Double] = []
        while servers.reduce(0, { $0 + $1.double.recorder.stats.intervals.count }) < items {
            resident.append(residentMiB())
            try await Task.sleep(for: .seconds(1))
        }
        let intervals = servers.flatMap { $0.double.recorder.stats.intervals }
        let span = (intervals.map(\.end).max() ?? 0) - (intervals.map(\.start).min() ?? 0)
        let gaps = servers.flatMap { $0.double.recorder.stats.idleGaps }
        let overlap = servers.map { $0.double.recorder.stats.maxOverlap }.max() ?? 0
        try await client.shutdown()
        for group in groups { await group.triggerGracefulShutdown() }
        for run in runs { _ = try? await run.value }
        for s in servers { await s.stop() }
        if overlap > 1 || intervals.count != items { fatalError("the doubles saw \(intervals.count) requests for \(items) items, overlap \(overlap)") }
        return Measured(throughput: Double(items) / span, gaps: gaps, requests: items, errors: 0, switches: 0, resident: resident)
    }
    let clients = (0..<(job == nil ? options.clients : 0)).map { index in
        Task { [bases] in
            var generator = SystemRandomNumberGenerator()
            var n = 0
            while !tally.stop.load(ordering: .relaxed) {
                let fields: [(String, String)]
                let file: [UInt8]?
                if names.isEmpty {
                    fields = [("text", "Client \(index) line \(n).")]
                    file = ref
                } else {
                    fields = [("text", "Client \(index) line \(n)."), ("voice", names.randomElement(using: &generator)!)]
                    file = nil
                }
                let (type, body) = multipart(fields, file: file)
                let status = (try? await post("/api/v1/voice/synthesize", type, body, bases[index % bases.count])) ?? 0
                if tally.counting.load(ordering: .relaxed) {
                    if status == 200 { tally.done.add(1, ordering: .relaxed) } else { tally.errors.add(1, ordering: .relaxed) }
                }
                n += 1
            }
        }
    }
    // Warm-up: connections open, the reference stored, every worker busy with a backlog behind it.
    try await Task.sleep(for: .seconds(2))
    for s in servers { s.double.recorder.reset() }
    let switchesBefore = gateways.reduce(0) { $0 + $1.pool.queue.switches }
    tally.counting.store(true, ordering: .relaxed)
    let started = ContinuousClock.now
    try await Task.sleep(for: .seconds(options.seconds))
    tally.counting.store(false, ordering: .relaxed)
    let elapsed = (ContinuousClock.now - started).seconds
    // The gaps inside the window, while the backlog stood (the clients keep it until they stop).
    let gaps = servers.flatMap { $0.double.recorder.stats.idleGaps }
    if job != nil { tally.done.store(servers.reduce(0) { $0 + $1.double.recorder.stats.ttsRequests }, ordering: .relaxed) }
    let switches = gateways.reduce(0) { $0 + $1.pool.queue.switches } - switchesBefore
    let violations = servers.flatMap { $0.double.recorder.stats.violations } + servers.compactMap {
        $0.double.recorder.stats.maxOverlap > 1 ? "overlap \($0.double.recorder.stats.maxOverlap)" : nil
    }
    tally.stop.store(true, ordering: .relaxed)
    for c in clients { await c.value }
    try await client.shutdown()
    for group in groups { await group.triggerGracefulShutdown() }
    for run in runs { _ = try? await run.value }
    for s in servers { await s.stop() }
    if !violations.isEmpty { fatalError("the doubles saw \(violations)") }
    return Measured(throughput: Double(tally.done.load(ordering: .relaxed)) / elapsed, gaps: gaps, requests: tally.done.load(ordering: .relaxed),
                    errors: tally.errors.load(ordering: .relaxed), switches: switches)
}

/// What the clients count, shared with their tasks.
final class Tally: Sendable {
    let counting = Atomic<Bool>(false)
    let done = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}

/// The floor of the idle gap: one client sending the gateway's own JSON `POST /tts` straight to a double, the next
/// the moment the last answer has been read — no gateway, so the gap is only the answer out and the request in.
func direct() async throws -> [Double] {
    var doubleOptions = SovitsDoubleOptions()
    doubleOptions.inferenceDelay = .milliseconds(options.inferenceMs)
    doubleOptions.silentOutput = true
    let server = try await SovitsDoubleServer.start(SovitsDouble(options: doubleOptions))
    let folder = NSTemporaryDirectory() + "pool-bench-ref-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/ref.wav"
    try Data(reference()).write(to: URL(fileURLWithPath: path))
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    let deadline = ContinuousClock.now + .seconds(2) + .seconds(options.seconds)
    var n = 0
    var reset = false
    while ContinuousClock.now < deadline {
        let body: [String: Any] = ["text": "Client 0 line \(n).", "text_lang": "en", "ref_audio_path": path, "prompt_text": "",
                                   "prompt_lang": "en", "temperature": 1.0, "speed_factor": 1.0, "seed": -1, "streaming_mode": false,
                                   "media_type": "wav", "batch_size": 1, "text_split_method": "cut5"]
        var request = HTTPClientRequest(url: server.url + "/tts")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        let response = try await client.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 64 << 20)
        n += 1
        if !reset && ContinuousClock.now > deadline - .seconds(options.seconds) {
            server.double.recorder.reset()
            reset = true
        }
    }
    let gaps = server.double.recorder.stats.idleGaps
    try await client.shutdown()
    await server.stop()
    return gaps
}

func ms(_ seconds: Double) -> String { String(format: "%.3f", seconds * 1000) }

print("pool-bench: \(options.clients) clients, \(options.inferenceMs) ms inference per request, \(options.seconds) s windows, "
      + "median of \(options.rounds) rounds (rounds alternate the worker counts)")
if let items = options.jobItems {
    let ceiling = 1000.0 / Double(options.inferenceMs)
    for n in options.workers {
        var rates: [String: [Double]] = [:]
        var gaps: [String: [Double]] = [:]
        var resident: [String: [Double]] = [:]
        let runs = [("32 clients", nil), ("one job, parallel 1", JobLoad(items: items, parallel: 1)),
                    ("one job, parallel \(n)", JobLoad(items: items, parallel: n))].reduce(into: [(String, JobLoad?)]()) { list, run in
            if !list.contains(where: { $0.0 == run.0 }) { list.append(run) }
        }
        for round in 1...options.rounds {
            for (name, job) in runs {
                let m = try await measure(workers: n, job: job)
                rates[name, default: []].append(m.throughput)
                gaps[name, default: []] += m.gaps
                resident[name, default: []] += m.resident
                print(String(format: "  round %d, %d worker(s), %@: %.2f per s, gap p99 %@ ms%@", round, n, name, m.throughput, ms(percentile(m.gaps, 99)),
                             m.resident.isEmpty ? "" : String(format: ", resident %.1f -> %.1f MiB (max %.1f)", m.resident.first!, m.resident.last!,
                                                             m.resident.max()!)))
            }
        }
        let clients = median(rates["32 clients"] ?? [])
        print("\n\(items) items on \(n) worker(s) of \(options.inferenceMs) ms (capacity \(String(format: "%.2f", Double(n) * ceiling)) per s), median of "
              + "\(options.rounds) rounds")
        print("                       per s   vs capacity   vs 32 clients   idle gap p50 / p99 / max (ms)")
        for (name, _) in runs {
            let rate = median(rates[name] ?? [])
            let g = gaps[name] ?? []
            print(String(format: "  %-20@ %6.2f   %11.3f   %13.3f   %@ / %@ / %@", name as NSString, rate, rate / (Double(n) * ceiling), rate / clients,
                         ms(percentile(g, 50)), ms(percentile(g, 99)), ms(g.max() ?? .nan)))
        }
        for (name, job) in runs where job != nil {
            let r = resident[name] ?? []
            print(String(format: "  %@: this process's resident memory (gateway, doubles and client) from %.1f to %.1f MiB, at most %.1f",
                         name, r.first ?? .nan, r.last ?? .nan, r.max() ?? .nan))
        }
    }
    exit(0)
}
if options.jobs {
    var backlog: [Double] = []
    var items: [Double] = []
    var rates: ([Double], [Double]) = ([], [])
    for round in 1...options.rounds {
        let clients = try await measure(workers: 1, voices: 0)
        let job = try await measure(workers: 1, job: JobLoad())
        backlog += clients.gaps
        items += job.gaps
        rates.0.append(clients.throughput)
        rates.1.append(job.throughput)
        print(String(format: "  round %d: %d clients %.2f req/s, gap p50 %@ p99 %@ ms; one job %.2f items/s, gap p50 %@ p99 %@ ms", round,
                     options.clients, clients.throughput, ms(percentile(clients.gaps, 50)), ms(percentile(clients.gaps, 99)), job.throughput,
                     ms(percentile(job.gaps, 50)), ms(percentile(job.gaps, 99))))
    }
    print("\none worker, \(options.inferenceMs) ms inference: idle gap p50 / p99 / max (ms), throughput (median)")
    print(String(format: "  %d clients' backlog:  %@ / %@ / %@, %.2f req/s", options.clients, ms(percentile(backlog, 50)), ms(percentile(backlog, 99)),
                 ms(backlog.max() ?? .nan), median(rates.0)))
    print(String(format: "  one job's items:     %@ / %@ / %@, %.2f items/s (%.3f of the clients')", ms(percentile(items, 50)), ms(percentile(items, 99)),
                 ms(items.max() ?? .nan), median(rates.1), median(rates.1) / median(rates.0)))
    exit(0)
}
var throughput: [Int: [Double]] = [:]
var gaps: [Int: [Double]] = [:]
var sharedThroughput: [Int: [Double]] = [:]
var sharedGaps: [Int: [Double]] = [:]
var errors = 0
let shared = options.gateways > 1 ? options.storeURL : nil
if options.gateways > 1 && shared == nil { FileHandle.standardError.write(Data("--gateways needs --store-url postgres://...\n".utf8)); exit(2) }
for round in 1...options.rounds {
    for n in options.workers {
        let m = try await measure(workers: n)
        throughput[n, default: []].append(m.throughput)
        gaps[n, default: []] += m.gaps
        errors += m.errors
        print(String(format: "  round %d, %d worker(s): %.2f req/s, %d requests, idle gap p50 %@ ms p99 %@ ms",
                     round, n, m.throughput, m.requests, ms(percentile(m.gaps, 50)), ms(percentile(m.gaps, 99))))
        if let shared {
            let s = try await measure(workers: n, gateways: options.gateways, store: shared)
            sharedThroughput[n, default: []].append(s.throughput)
            sharedGaps[n, default: []] += s.gaps
            errors += s.errors
            print(String(format: "  round %d, %d worker(s), %d gateways on PostgreSQL: %.2f req/s, %d requests, idle gap p50 %@ ms p99 %@ ms",
                         round, n, options.gateways, s.throughput, s.requests, ms(percentile(s.gaps, 50)), ms(percentile(s.gaps, 99))))
        }
    }
}
var floor: [Double] = []
for _ in 1...options.rounds { floor += try await direct() }
let one = median(throughput[1] ?? [1])
let ceiling = 1000.0 / Double(options.inferenceMs)
print("\nworkers  req/s (median)  vs N x one worker  vs the doubles' ceiling (N x \(String(format: "%.1f", ceiling)))  idle gap p50 / p99 / max (ms)")
for n in options.workers {
    let t = median(throughput[n] ?? [])
    let g = gaps[n] ?? []
    print(String(format: "%7d  %14.2f  %17.3f  %38.3f  %@ / %@ / %@", n, t, t / (Double(n) * one), t / (Double(n) * ceiling),
                 ms(percentile(g, 50)), ms(percentile(g, 99)), ms(g.max() ?? .nan)))
}
print(String(format: " direct  (one client, the gateway's JSON straight to a double, the next request when the answer is read):  %@ / %@ / %@",
             ms(percentile(floor, 50)), ms(percentile(floor, 99)), ms(floor.max() ?? .nan)))
if shared != nil {
    print("\n\(options.gateways) gateways sharing the doubles through PostgreSQL, the clients spread over them:")
    print("workers  req/s (median)  vs N x one worker (one gateway's)  idle gap p50 / p99 / max (ms)  p99 against one gateway's")
    for n in options.workers {
        let t = median(sharedThroughput[n] ?? [])
        let g = sharedGaps[n] ?? []
        let single = gaps[n] ?? []
        print(String(format: "%7d  %14.2f  %33.3f  %@ / %@ / %@  %+.3f ms", n, t, t / (Double(n) * one),
                     ms(percentile(g, 50)), ms(percentile(g, 99)), ms(g.max() ?? .nan), (percentile(g, 99) - percentile(single, 99)) * 1000))
    }
}
if errors > 0 { print("errors: \(errors) requests did not answer 200") }

if !options.switches { exit(errors > 0 ? 1 : 0) }
print("\ntwo voices with their own weights, 2 workers, requests spread at random between them:")
for policy in ["affinity", "round-robin"] {
    var switches: [Double] = []
    var requests: [Double] = []
    for _ in 1...options.rounds {
        let m = try await measure(workers: 2, policy: policy, voices: 2)
        switches.append(Double(m.switches))
        requests.append(Double(m.requests))
    }
    print(String(format: "  %-11@  %5.0f switches for %4.0f requests (median): %.1f per 100", policy as NSString, median(switches), median(requests),
                 100 * median(switches) / max(1, median(requests))))
}
