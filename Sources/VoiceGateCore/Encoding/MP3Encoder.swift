import CLame
import NIOCore

/// CBR mp3 through LAME. No Xing/VBR header: a stream cannot go back to fill it in, and some players (iOS) stumble
/// on an empty one. Frames concatenate, so each call hands out what LAME has finished.
final class MP3Encoder: AudioEncoder {
    /// Rates LAME encodes without resampling (MPEG-1, -2 and -2.5).
    static let nativeRates: Set<Int> = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000]
    static let kilobitsPerSecond: Int32 = 64

    private let lame: lame_t
    private let channels: Int
    private var scratch: [UInt8] = []

    init(sampleRate: Int, channels: Int) throws {
        guard (1...2).contains(channels) else { throw EncoderError("mp3 holds one or two channels, not \(channels)") }
        guard let lame = lame_init() else { throw EncoderError("LAME could not start") }
        self.lame = lame
        self.channels = channels
        lame_set_in_samplerate(lame, Int32(sampleRate))
        if Self.nativeRates.contains(sampleRate) { lame_set_out_samplerate(lame, Int32(sampleRate)) }
        lame_set_num_channels(lame, Int32(channels))
        lame_set_mode(lame, channels == 1 ? MONO : JOINT_STEREO)
        lame_set_brate(lame, Self.kilobitsPerSecond)
        // 5 is LAME's "good" speed/quality point; speech at 64 kbit/s gains nothing audible from slower settings.
        lame_set_quality(lame, 5)
        lame_set_bWriteVbrTag(lame, 0)
        // Closed by `deinit`, which runs when this init throws with every property set (closing here too is a double free).
        guard lame_init_params(lame) >= 0 else {
            throw EncoderError("LAME refused \(sampleRate) Hz, \(channels) channel(s)")
        }
    }

    func encode(_ samples: UnsafeBufferPointer<Int16>, into output: inout ByteBuffer) throws {
        let frames = samples.count / channels
        guard frames > 0, let base = samples.baseAddress else { return }
        // LAME's documented worst case: 1.25 x samples + 7200 bytes.
        let capacity = frames * 5 / 4 + 7200
        if scratch.count < capacity { scratch = [UInt8](repeating: 0, count: capacity) }
        let written = scratch.withUnsafeMutableBufferPointer { out -> Int32 in
            let pcm = UnsafeMutablePointer(mutating: base)
            return channels == 1
                ? lame_encode_buffer(lame, pcm, pcm, Int32(frames), out.baseAddress, Int32(capacity))
                : lame_encode_buffer_interleaved(lame, pcm, Int32(frames), out.baseAddress, Int32(capacity))
        }
        guard written >= 0 else { throw EncoderError("LAME failed to encode (\(written))") }
        output.writeBytes(scratch[0..<Int(written)])
    }

    func finish(into output: inout ByteBuffer) throws {
        if scratch.count < 7200 { scratch = [UInt8](repeating: 0, count: 7200) }
        let written = scratch.withUnsafeMutableBufferPointer { lame_encode_flush(lame, $0.baseAddress, Int32($0.count)) }
        guard written >= 0 else { throw EncoderError("LAME failed to flush (\(written))") }
        output.writeBytes(scratch[0..<Int(written)])
    }

    deinit { lame_close(lame) }
}
