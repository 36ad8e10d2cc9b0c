import Foundation

/// Reads the format and exact duration of a recording from its container, without decoding it.
public enum AudioInspector {
    static let probeSize = 16 * 1024
    static let headSize = 256 * 1024
    static let tailSize = 64 * 1024

    public static func inspect(path: String) throws -> AudioInfo {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw AudioInspectionError("the file cannot be read") }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        func read(at offset: Int, _ count: Int) throws -> [UInt8] {
            try handle.seek(toOffset: UInt64(offset))
            return [UInt8](try handle.read(upToCount: count) ?? Data())
        }
        // WAV and FLAC need only their header, nearly always in the first few KiB: try that before reading more.
        let probe = try read(at: 0, probeSize)
        if let format = AudioFormat.sniff(probe), format == .wav || format == .flac,
           let info = try? inspect(head: probe, tail: probe, fileSize: size) {
            return info
        }
        let head = size > probe.count ? try read(at: 0, headSize) : probe
        let tail = size > head.count ? try read(at: max(0, size - tailSize), tailSize) : head
        // An MP3's ID3 tag (cover art) can be larger than the head: read the frames where the tag ends.
        if let tagEnd = id3End(head), tagEnd + 16 * 1024 > head.count, tagEnd < size {
            return try mp3(try read(at: tagEnd, 64 * 1024), tail: tail, fileSize: size, frameOffset: tagEnd)
        }
        return try inspect(head: head, tail: tail, fileSize: size)
    }

    /// `head` is the start of the file, `tail` its end (the same bytes when the file is small).
    public static func inspect(head: [UInt8], tail: [UInt8], fileSize: Int) throws -> AudioInfo {
        guard head.count >= 12, let format = AudioFormat.sniff(head) else {
            throw AudioInspectionError("the file is not WAV, MP3, FLAC or OGG audio")
        }
        let info: AudioInfo
        switch format {
        case .wav: info = try wav(head, fileSize: fileSize)
        case .flac: info = try flac(head)
        case .ogg: info = try ogg(head, tail: tail)
        case .mp3: info = try mp3(head, tail: tail, fileSize: fileSize)
        }
        return try plausible(info)
    }

    /// What an engine takes from any container, within what recordings can be: a header is believed this far only.
    static func plausible(_ info: AudioInfo) throws -> AudioInfo {
        guard (1000...768_000).contains(info.sampleRate) else {
            throw AudioInspectionError("the \(info.format.rawValue) header declares a sample rate of \(info.sampleRate) Hz")
        }
        guard (1...32).contains(info.channels) else {
            throw AudioInspectionError("the \(info.format.rawValue) header declares \(info.channels) channels")
        }
        guard info.duration.isFinite, info.duration >= 0 else {
            throw AudioInspectionError("the \(info.format.rawValue) header declares an impossible length")
        }
        return info
    }

    static func wav(_ b: [UInt8], fileSize: Int) throws -> AudioInfo {
        guard let header = WAVHeader.parse(b) else { throw AudioInspectionError("the WAV header is damaged or incomplete") }
        guard header.byteRate > 0, header.sampleRate > 0, header.channels > 0 else {
            throw AudioInspectionError("the WAV header declares no audio (zero rate or channels)")
        }
        // Every field a decoder relies on: PCM or float, 8-32 bits, a byte rate and block size that agree with them.
        if let problem = header.formatProblem { throw AudioInspectionError("the WAV header declares \(problem)") }
        let frame = header.channels * header.bitsPerSample / 8
        if header.blockAlign != frame {
            throw AudioInspectionError("the WAV header declares \(header.blockAlign)-byte frames, not \(frame) for its format")
        }
        let available = max(0, fileSize - header.dataOffset)
        let dataSize = header.dataSizeIsUnknown ? available : min(header.dataSize, available)
        return AudioInfo(format: .wav, duration: Double(dataSize) / Double(header.byteRate),
                         sampleRate: header.sampleRate, channels: header.channels)
    }

    static func flac(_ b: [UInt8]) throws -> AudioInfo {
        // The first metadata block must be STREAMINFO (type 0), 34 bytes.
        guard b.count >= 42, b[4] & 0x7F == 0 else { throw AudioInspectionError("the FLAC stream has no STREAMINFO block") }
        let s = 8
        let sampleRate = Int(b[s + 10]) << 12 | Int(b[s + 11]) << 4 | Int(b[s + 12]) >> 4
        let channels = Int((b[s + 12] >> 1) & 0x07) + 1
        let total = UInt64(b[s + 13] & 0x0F) << 32 | UInt64(b[s + 14]) << 24 | UInt64(b[s + 15]) << 16
            | UInt64(b[s + 16]) << 8 | UInt64(b[s + 17])
        let minBlock = Int(b[s]) << 8 | Int(b[s + 1]), maxBlock = Int(b[s + 2]) << 8 | Int(b[s + 3])
        let bits = Int(b[s + 12] & 0x01) << 4 | Int(b[s + 13] >> 4) + 1
        guard sampleRate > 0 else { throw AudioInspectionError("the FLAC stream declares a sample rate of 0") }
        // The format's own rules (min block >= 16, max >= min, 4-32 bits): a decoder sizes its buffers by them.
        guard minBlock >= 16, maxBlock >= minBlock else {
            throw AudioInspectionError("the FLAC stream declares blocks of \(minBlock)-\(maxBlock) samples")
        }
        guard (4...32).contains(bits) else { throw AudioInspectionError("the FLAC stream declares \(bits) bits per sample") }
        guard total > 0 else { throw AudioInspectionError("the FLAC stream does not declare its length") }
        return AudioInfo(format: .flac, duration: Double(total) / Double(sampleRate), sampleRate: sampleRate, channels: channels)
    }

    static func ogg(_ head: [UInt8], tail: [UInt8]) throws -> AudioInfo {
        // First page: 27-byte header + segment table, then the codec's identification packet.
        guard head.count >= 28 else { throw AudioInspectionError("the OGG file is truncated") }
        let packet = 27 + Int(head[26])
        var sampleRate = 0, channels = 0, preSkip = 0
        if head.ascii(packet, 7) == "\u{01}vorbis", head.count >= packet + 16 {
            channels = Int(head[packet + 11])
            sampleRate = head.u32le(packet + 12)
        } else if head.ascii(packet, 8) == "OpusHead", head.count >= packet + 12 {
            channels = Int(head[packet + 9])
            preSkip = head.u16le(packet + 10)
            sampleRate = 48000 // Opus granule positions always count 48 kHz samples
        } else {
            throw AudioInspectionError("the OGG file holds neither Vorbis nor Opus audio")
        }
        guard sampleRate > 0 else { throw AudioInspectionError("the OGG stream declares a sample rate of 0") }
        // The last page's granule position is the stream's length in samples.
        var i = tail.count - 27
        while i >= 0 {
            if tail[i] == 0x4F, tail.ascii(i, 4) == "OggS", tail[i + 4] == 0 {
                let granule = tail.u64le(i + 6)
                if granule != UInt64.max {
                    let samples = Double(granule) - Double(preSkip)
                    return AudioInfo(format: .ogg, duration: max(0, samples) / Double(sampleRate),
                                     sampleRate: sampleRate, channels: channels)
                }
            }
            i -= 1
        }
        throw AudioInspectionError("the OGG file has no final page (truncated?)")
    }


    /// Where an ID3v2 tag at the start of `head` ends, if there is one.
    static func id3End(_ head: [UInt8]) -> Int? {
        guard head.count >= 10, head.ascii(0, 3) == "ID3" else { return nil }
        let size = Int(head[6] & 0x7F) << 21 | Int(head[7] & 0x7F) << 14 | Int(head[8] & 0x7F) << 7 | Int(head[9] & 0x7F)
        return 10 + size + (head[5] & 0x10 != 0 ? 10 : 0)
    }

    /// `head` holds the file from `frameOffset` on (0: the whole start, ID3 tag included).
    static func mp3(_ head: [UInt8], tail: [UInt8], fileSize: Int, frameOffset: Int = 0) throws -> AudioInfo {
        let start = frameOffset == 0 ? (id3End(head) ?? 0) : 0
        // Find two consecutive valid frame headers: one alone is too easily matched by chance.
        var i = start
        var first: MP3Frame?
        while i + 4 <= head.count, i < start + 64 * 1024 {
            if let frame = MP3Frame(head, at: i), let next = MP3Frame(head, at: i + frame.length),
               next.sampleRate == frame.sampleRate {
                first = frame
                break
            }
            i += 1
        }
        guard let frame = first else { throw AudioInspectionError("no MPEG audio frames were found") }
        let sideInfo = frame.isMPEG1 ? (frame.channels == 1 ? 17 : 32) : (frame.channels == 1 ? 9 : 17)
        let xing = i + 4 + sideInfo
        if let tag = head.ascii(xing, 4), tag == "Xing" || tag == "Info", head.count >= xing + 12, head[xing + 7] & 0x01 != 0 {
            let frames = head.u32be(xing + 8)
            return AudioInfo(format: .mp3, duration: Double(frames * frame.samplesPerFrame) / Double(frame.sampleRate),
                             sampleRate: frame.sampleRate, channels: frame.channels)
        }
        if head.ascii(i + 36, 4) == "VBRI", head.count >= i + 36 + 18 {
            let frames = head.u32be(i + 36 + 14)
            return AudioInfo(format: .mp3, duration: Double(frames * frame.samplesPerFrame) / Double(frame.sampleRate),
                             sampleRate: frame.sampleRate, channels: frame.channels)
        }
        // Constant bit rate: the audio bytes divided by the byte rate (an ID3v1 tag at the end is not audio).
        let id3v1 = tail.count >= 128 && tail.ascii(tail.count - 128, 3) == "TAG" ? 128 : 0
        let audioBytes = fileSize - (frameOffset + i) - id3v1
        return AudioInfo(format: .mp3, duration: Double(audioBytes) * 8 / Double(frame.bitrate),
                         sampleRate: frame.sampleRate, channels: frame.channels)
    }
}
