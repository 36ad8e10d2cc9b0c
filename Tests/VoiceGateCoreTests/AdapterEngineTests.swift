import Foundation
import NIOFoundationCompat
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing
@testable import VoiceGateCore

@Suite("SOVITS_API=adapter keeps the seed's upstream protocol")
struct AdapterEngineTests {
    /// The seed's adapter: multipart POST /synthesize answering WAV, GET /health.
    final class Received: Sendable {
        let bodies = Mutex<[Data]>([])
    }

    @Test func sendsMultipartWithTheReferenceAndProbesHealth() async throws {
        let received = Received()
        let router = Router()
        router.get("health") { _, _ in "{\"status\":\"ok\"}" }
        router.post("synthesize") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 20 << 20)
            received.bodies.withLock { $0.append(Data(buffer: body)) }
            let pcm = [UInt8](repeating: 1, count: 48000)
            return Response(status: .ok, headers: [.contentType: "audio/wav"],
                            body: .init(byteBuffer: ByteBuffer(bytes: WAVHeader.canonical(sampleRate: 24000, dataSize: pcm.count) + pcm)))
        }
        let port = PortPromise()
        let quiet = Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }
        let adapter = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                  onServerRunning: { port.fulfil($0.localAddress!.port!) }, logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [adapter], logger: quiet))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let url = "http://127.0.0.1:\(await port.value())"
            try await TestGateway.run(upstream: .embedded, env: ["SOVITS_BASE_URL": url, "SOVITS_API": "adapter"]) { t in
                let r = try await t.synthesize(.synthesis(text: "Adapter text.", extra: ["language": "EN"]))
                #expect(r.status == 200)
                #expect(r.header("X-Engine") == "adapter")
                #expect(r.header("X-Audio-Duration") == "1")
                let body = try #require(received.bodies.withLock { $0.first })
                let text = String(decoding: body, as: UTF8.self)
                #expect(text.contains("name=\"text\"\r\n\r\nAdapter text.\r\n"))
                #expect(text.contains("name=\"language\"\r\n\r\nen\r\n"))
                #expect(text.contains("name=\"reference_audio\"; filename=\"reference.wav\""))
                #expect(body.range(of: TestAudio.wav(seconds: 4)) != nil, "the reference file is sent whole")
                #expect(await eventually { t.gateway.monitor.snapshot.upstream.word == "up" })
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
