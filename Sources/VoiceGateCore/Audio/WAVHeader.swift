/// The parts of a RIFF/WAVE header the gateway needs: format, and where the samples are.
public struct WAVHeader: Sendable, Equatable {
    public var formatTag: Int
    public var channels: Int
    public var sampleRate: Int
    public var byteRate: Int
    public var bitsPerSample: Int
    /// Bytes a frame of every channel takes, as the header says.
    public var blockAlign: Int = 0
    public var dataOffset: Int
    public var dataSize: Int

    /// Streaming writers put 0 or 0xFFFFFFFF in the size fields because they cannot know it yet.
    public var dataSizeIsUnknown: Bool { dataSize == 0 || dataSize == 0xFFFF_FFFF }

    /// The duration the header declares, or nil when the size is unknown.
    public var duration: Double? {
        guard !dataSizeIsUnknown, byteRate > 0 else { return nil }
        return Double(dataSize) / Double(byteRate)
    }

    /// Why this header cannot describe audio a player can take, or nil: upstream answers are checked before
    /// their header is passed on (or rewritten for a stream), so an absurd one is a clear error, not a broken file.
    public var formatProblem: String? {
        guard [1, 3, 0xFFFE].contains(formatTag) else { return "format tag \(formatTag) is not PCM" }
        guard (1...32).contains(channels) else { return "\(channels) channels" }
        guard (1000...768_000).contains(sampleRate) else { return "a sample rate of \(sampleRate) Hz" }
        guard [8, 16, 24, 32].contains(bitsPerSample) else { return "\(bitsPerSample) bits per sample" }
        guard byteRate == sampleRate * channels * bitsPerSample / 8 else {
            return "a byte rate of \(byteRate), not \(sampleRate * channels * bitsPerSample / 8) for its format"
        }
        return nil
    }

    /// Parses the header from the first bytes of a file; nil until the `data` chunk's header is in `b`.
    public static func parse(_ b: [UInt8]) -> WAVHeader? {
        guard b.count >= 12, b.ascii(0, 4) == "RIFF" || b.ascii(0, 4) == "RF64", b.ascii(8, 4) == "WAVE" else { return nil }
        var i = 12
        var fmt: (tag: Int, channels: Int, rate: Int, byteRate: Int, align: Int, bits: Int)?
        while i + 8 <= b.count {
            let id = b.ascii(i, 4)
            let size = b.u32le(i + 4)
            if id == "fmt ", i + 8 + 16 <= b.count {
                fmt = (b.u16le(i + 8), b.u16le(i + 10), b.u32le(i + 12), b.u32le(i + 16), b.u16le(i + 20), b.u16le(i + 22))
            } else if id == "data" {
                guard let fmt else { return nil }
                return WAVHeader(formatTag: fmt.tag, channels: fmt.channels, sampleRate: fmt.rate, byteRate: fmt.byteRate,
                                 bitsPerSample: fmt.bits, blockAlign: fmt.align, dataOffset: i + 8, dataSize: size)
            }
            guard size < Int(UInt32.max) else { return nil }
            i += 8 + size + (size & 1)
        }
        return nil
    }

    public static let canonicalLength = 44

    /// A canonical 44-byte PCM header. `dataSize` nil writes the "unknown length" sizes players accept while streaming.
    public static func canonical(sampleRate: Int, channels: Int = 1, bitsPerSample: Int = 16, dataSize: Int?) -> [UInt8] {
        let blockAlign = channels * bitsPerSample / 8
        let data = UInt32(truncatingIfNeeded: dataSize ?? 0xFFFF_FFFF)
        let riff = dataSize.map { UInt32(truncatingIfNeeded: 36 + $0) } ?? 0xFFFF_FFFF
        var h: [UInt8] = []
        h.reserveCapacity(canonicalLength)
        func u32(_ v: UInt32) { h += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        func u16(_ v: Int) { h += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        h += Array("RIFF".utf8); u32(riff); h += Array("WAVEfmt ".utf8); u32(16)
        u16(1); u16(channels); u32(UInt32(sampleRate)); u32(UInt32(sampleRate * blockAlign)); u16(blockAlign); u16(bitsPerSample)
        h += Array("data".utf8); u32(data)
        return h
    }
}
