import CFLAC
import NIOCore

/// FLAC through libFLAC's stream encoder, which writes STREAMINFO first and, without a seek callback (an HTTP body
/// cannot be rewound), never goes back to it. So the length goes in up front whenever it is known before the first
/// sample (the upstream's WAV header declares it): libsndfile, and so Python's `soundfile`, reads a total of 0 as
/// "unknown" and then cannot read the file at all ("array is too big"). A stream whose length nobody knows yet
/// keeps 0, which the format allows, `flac` and ffmpeg decode, and libsndfile cannot: holding the whole answer back
/// to write its length would undo streaming, so a client that reads with libsndfile asks for a non-streamed answer.
/// The MD5 stays unset (all zero: decoders skip the check).
final class FLACEncoder: AudioEncoder {
    private let encoder: UnsafeMutablePointer<FLAC__StreamEncoder>
    private let sink = EncodedBytes()
    private let channels: Int
    private var widened: [Int32] = []

    init(sampleRate: Int, channels: Int, totalFrames: Int? = nil) throws {
        guard let encoder = FLAC__stream_encoder_new() else { throw EncoderError("libFLAC could not start") }
        self.encoder = encoder
        self.channels = channels
        FLAC__stream_encoder_set_channels(encoder, UInt32(channels))
        FLAC__stream_encoder_set_bits_per_sample(encoder, 16)
        FLAC__stream_encoder_set_sample_rate(encoder, UInt32(sampleRate))
        FLAC__stream_encoder_set_compression_level(encoder, 5)
        if let totalFrames, totalFrames > 0 { FLAC__stream_encoder_set_total_samples_estimate(encoder, FLAC__uint64(totalFrames)) }
        let status = FLAC__stream_encoder_init_stream(encoder, { _, bytes, count, _, _, user in
            EncodedBytes.from(user).append(bytes, count)
            return FLAC__STREAM_ENCODER_WRITE_STATUS_OK
        }, nil, nil, nil, sink.opaque)
        // A refused init still leaves the encoder to `deinit` (a class whose properties are all set runs it when its
        // init throws): deleting it here as well was a double free, found by fuzz-encoders (66536 Hz).
        guard status == FLAC__STREAM_ENCODER_INIT_STATUS_OK else {
            throw EncoderError("libFLAC refused \(sampleRate) Hz, \(channels) channel(s) (init status \(status.rawValue))")
        }
    }

    func encode(_ samples: UnsafeBufferPointer<Int16>, into output: inout ByteBuffer) throws {
        let frames = samples.count / channels
        if frames > 0 {
            if widened.count < frames * channels { widened = [Int32](repeating: 0, count: frames * channels) }
            for i in 0..<(frames * channels) { widened[i] = Int32(samples[i]) }
            guard FLAC__stream_encoder_process_interleaved(encoder, widened, UInt32(frames)) != 0 else {
                throw EncoderError("libFLAC failed to encode (state \(FLAC__stream_encoder_get_state(encoder).rawValue))")
            }
        }
        sink.drain(into: &output)
    }

    func finish(into output: inout ByteBuffer) throws {
        guard FLAC__stream_encoder_finish(encoder) != 0 else {
            throw EncoderError("libFLAC failed to finish (state \(FLAC__stream_encoder_get_state(encoder).rawValue))")
        }
        sink.drain(into: &output)
    }

    deinit { FLAC__stream_encoder_delete(encoder) }
}
