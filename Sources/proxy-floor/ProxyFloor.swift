import AsyncHTTPClient
import Hummingbird
import NIOCore
import NIOPosix

/// The least a gateway on this stack can do, for Benchmarks/run.py to measure beside the real one:
///
///     proxy-floor PORT UPSTREAM_PORT REFERENCE_PATH
///
/// `POST /` receives the request body and drops it, sends one fixed `/tts` JSON (the reference already on the
/// upstream's disk) through AsyncHTTPClient, and streams the answer back through Hummingbird: the same
/// frameworks and executor as `voicegate`, with no parsing, checking, storing, queue or logging. Whatever
/// the gateway costs beyond this is the gateway's own; what this costs beyond direct is the stack's.
@main
enum ProxyFloor {
    static func main() async throws {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let arguments = CommandLine.arguments
        guard arguments.count == 4, let port = Int(arguments[1]), let upstreamPort = Int(arguments[2]) else {
            print("usage: proxy-floor PORT UPSTREAM_PORT REFERENCE_PATH")
            return
        }
        let url = "http://127.0.0.1:\(upstreamPort)/tts"
        let json = #"{"text":"Hello from the benchmark.","text_lang":"en","ref_audio_path":"\#(arguments[3])","prompt_lang":"en","#
            + #""prompt_text":"","batch_size":1,"media_type":"wav","streaming_mode":false}"#
        let tts = ByteBuffer(string: json)
        var configuration = HTTPClient.Configuration(decompression: .disabled)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)

        let router = Router()
        router.post("/") { request, _ -> Response in
            for try await _ in request.body {}
            var upstream = HTTPClientRequest(url: url)
            upstream.method = .POST
            upstream.headers.add(name: "Content-Type", value: "application/json")
            upstream.body = .bytes(tts)
            let answer = try await client.execute(upstream, timeout: .seconds(30))
            var headers = HTTPFields()
            headers[.contentType] = "audio/wav"
            if let length = answer.headers.first(name: "Content-Length") { headers[.contentLength] = length }
            return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: answer.body))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
        try await client.shutdown()
    }
}
