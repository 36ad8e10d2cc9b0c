import NIOCore
import NIOPosix
import Synchronization
@testable import VoiceGateCore

/// A raw TCP upstream that breaks the ways a failing or impostor GPT-SoVITS can, below anything an HTTP server
/// framework would let a double do: it answers the health probe (`GET /openapi.json`) as api_v2 does and every
/// `POST /tts` with its fault.
final class FaultUpstream: Sendable {
    enum Fault: Sendable {
        /// Accepts the request and never answers.
        case silence
        /// 200 with a Content-Length, part of the WAV, then a TCP reset.
        case resetMidBody
        /// Bytes that are not HTTP at all, then close.
        case garbage
        /// A WAV header no real audio has (a rate of 4 GHz over 65535 channels).
        case absurdFormat
        /// A WAV header declaring 2 GB of samples in an answer of 1 kB.
        case absurdSize
        /// FastAPI's 422 validation answer.
        case unprocessable
        /// A chunked 200 that ends without its last chunk.
        case cutChunked
    }

    let fault: Fault
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    private(set) nonisolated(unsafe) var port = 0

    init(_ fault: Fault) { self.fault = fault }

    var url: String { "http://127.0.0.1:\(port)" }

    func start() async throws {
        let fault = self.fault
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { $0.pipeline.addHandler(FaultHandler(fault: fault)) }
            .bind(host: "127.0.0.1", port: 0).get()
        port = server.localAddress!.port!
        channel.withLock { $0 = server }
    }

    func stop() async {
        try? await channel.withLock { $0 }?.close().get()
    }

    static let openAPI = #"{"openapi":"3.1.0","paths":{"/tts":{},"/set_gpt_weights":{}}}"#

    static func wav(sampleRate: Int, channels: Int, dataSize: Int, samples: Int) -> [UInt8] {
        var header = WAVHeader.canonical(sampleRate: 32000, dataSize: dataSize)
        func put32(_ value: Int, at offset: Int) {
            for i in 0..<4 { header[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
        }
        put32(sampleRate, at: 24)
        header[22] = UInt8(channels & 0xFF); header[23] = UInt8(channels >> 8)
        put32(sampleRate * channels * 2, at: 28)
        return header + [UInt8](repeating: 0x11, count: samples)
    }
}

private final class FaultHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let fault: FaultUpstream.Fault
    private var received = ByteBuffer()

    init(fault: FaultUpstream.Fault) { self.fault = fault }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        while let request = takeRequest() { answer(request, context: context) }
    }

    /// The next whole request's head, once its body has arrived too.
    private func takeRequest() -> String? {
        let text = String(buffer: received)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = String(text[..<end.lowerBound])
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let total = text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + length
        guard received.readableBytes >= total else { return nil }
        received.moveReaderIndex(forwardBy: total)
        received.discardReadBytes()
        return head
    }

    private func send(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
    }

    private func answer(_ head: String, context: ChannelHandlerContext) {
        func http(_ status: String, _ headers: String, _ body: [UInt8]) -> [UInt8] {
            Array("HTTP/1.1 \(status)\r\n\(headers)Content-Length: \(body.count)\r\n\r\n".utf8) + body
        }
        if head.hasPrefix("GET /openapi.json") {
            send(context, http("200 OK", "Content-Type: application/json\r\n", Array(FaultUpstream.openAPI.utf8)))
            return
        }
        switch fault {
        case .silence:
            break
        case .resetMidBody:
            let wav = FaultUpstream.wav(sampleRate: 32000, channels: 1, dataSize: 64000, samples: 1000)
            send(context, Array("HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 64044\r\n\r\n".utf8) + wav)
            // SO_LINGER 0: close() sends a reset, not a FIN.
            let provider = context.channel as? any SocketOptionProvider
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            provider!.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in bound.value.close(promise: nil) }
        case .garbage:
            send(context, Array("SSH-2.0-OpenSSH_9.2p1\r\n".utf8) + [0, 0xFF, 0x13, 0x37])
            context.close(promise: nil)
        case .absurdFormat:
            send(context, http("200 OK", "Content-Type: audio/wav\r\n",
                               FaultUpstream.wav(sampleRate: 0xFFFF_FFF0, channels: 0xFFFF, dataSize: 1000, samples: 1000)))
        case .absurdSize:
            send(context, http("200 OK", "Content-Type: audio/wav\r\n",
                               FaultUpstream.wav(sampleRate: 32000, channels: 1, dataSize: 0x7FFF_FFF0, samples: 1000)))
        case .unprocessable:
            send(context, http("422 Unprocessable Entity", "Content-Type: application/json\r\n",
                               Array(#"{"detail":[{"type":"missing","loc":["body","text"],"msg":"Field required","input":null}]}"#.utf8)))
        case .cutChunked:
            let wav = FaultUpstream.wav(sampleRate: 32000, channels: 1, dataSize: 0, samples: 3200)
            send(context, Array("HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                 + Array((String(wav.count, radix: 16) + "\r\n").utf8) + wav + Array("\r\n".utf8))
            context.close(promise: nil)
        }
    }
}
