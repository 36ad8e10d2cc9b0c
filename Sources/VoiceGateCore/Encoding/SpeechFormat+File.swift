import NIOCore

extension SpeechFormat {
    /// A whole 16-bit WAV file in this format (the console's saved files). wav comes back as it is.
    public func encode(wav: [UInt8]) throws -> [UInt8] {
        guard self != .wav else { return wav }
        guard let header = WAVHeader.parse(wav), header.formatProblem == nil, header.formatTag == 1, header.bitsPerSample == 16 else {
            throw GatewayError(500, "encoder_failed", "the audio is not 16-bit PCM WAV; \(rawValue) is encoded from that")
        }
        let end = header.dataSizeIsUnknown ? wav.count : min(wav.count, header.dataOffset + header.dataSize)
        let body = wav[min(header.dataOffset, end)..<end]
        if self == .pcm { return Array(body.prefix(body.count & ~1)) }
        do {
            let frames = body.count / 2 / max(1, header.channels)
            guard let encoder = try makeEncoder(sampleRate: header.sampleRate, channels: header.channels, totalFrames: frames) else { return wav }
            var out = ByteBuffer()
            try encoder.encode(pcm: body, into: &out)
            try encoder.finish(into: &out)
            return Array(out.readableBytesView)
        } catch {
            throw GatewayError(500, "encoder_failed", "encoding \(rawValue) failed: \(error)")
        }
    }
}
