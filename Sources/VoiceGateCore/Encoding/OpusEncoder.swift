import COpusEnc
import NIOCore

/// Ogg/Opus through libopusenc, which resamples any input rate to Opus's 48 kHz and keeps the original rate in the
/// header. Its default delays (1 s of muxing, 2 s of decisions) suit files; a stream wants pages out promptly.
final class OpusEncoder: AudioEncoder {
    static let bitsPerSecond: Int32 = 32000
    /// 48 kHz samples: a page at least every 100 ms, decisions over 20 ms.
    static let muxingDelay: Int32 = 4800
    static let decisionDelay: Int32 = 960
    /// libopus's default, 10, encodes speech from 32 kHz at ~55x real time on one core of these machines; 3 at
    /// ~110x, with the same bitrate and no audible loss for speech at 32 kbit/s (Benchmarks/encoders in the README).
    static let complexity: Int32 = 3

    private let encoder: OpaquePointer
    private let sink = EncodedBytes()
    private let channels: Int

    init(sampleRate: Int, channels: Int) throws {
        guard (1...2).contains(channels) else { throw EncoderError("this Opus stream holds one or two channels, not \(channels)") }
        self.channels = channels
        guard let comments = ope_comments_create() else { throw EncoderError("libopusenc could not start") }
        defer { ope_comments_destroy(comments) }
        ope_comments_add(comments, "ENCODER", "VoiceGate")
        var callbacks = OpusEncCallbacks(
            write: { user, bytes, count in
                EncodedBytes.from(user).append(bytes, Int(count))
                return 0
            },
            close: { _ in 0 })
        var error: Int32 = 0
        guard let encoder = ope_encoder_create_callbacks(&callbacks, sink.opaque, comments, Int32(sampleRate), Int32(channels), 0, &error) else {
            throw EncoderError("libopusenc refused \(sampleRate) Hz, \(channels) channel(s): \(String(cString: ope_strerror(error)))")
        }
        self.encoder = encoder
        _ = vg_ope_set_bitrate(encoder, Self.bitsPerSecond)
        _ = vg_ope_set_voice(encoder)
        _ = vg_ope_set_complexity(encoder, Self.complexity)
        _ = vg_ope_set_muxing_delay(encoder, Self.muxingDelay)
        _ = vg_ope_set_decision_delay(encoder, Self.decisionDelay)
        // The identification and comment pages go out at once: the client learns the stream's kind immediately.
        _ = ope_encoder_flush_header(encoder)
    }

    func encode(_ samples: UnsafeBufferPointer<Int16>, into output: inout ByteBuffer) throws {
        let frames = samples.count / channels
        if frames > 0, let base = samples.baseAddress {
            let status = ope_encoder_write(encoder, base, Int32(frames))
            guard status == OPE_OK else { throw EncoderError("libopusenc failed: \(String(cString: ope_strerror(status)))") }
        }
        sink.drain(into: &output)
    }

    func finish(into output: inout ByteBuffer) throws {
        let status = ope_encoder_drain(encoder)
        guard status == OPE_OK else { throw EncoderError("libopusenc failed to finish: \(String(cString: ope_strerror(status)))") }
        sink.drain(into: &output)
    }

    deinit { ope_encoder_destroy(encoder) }
}
