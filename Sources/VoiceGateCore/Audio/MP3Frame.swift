/// One MPEG audio frame header (layers I-III, MPEG 1, 2 and 2.5).
struct MP3Frame {
    let sampleRate: Int
    let bitrate: Int // bits per second
    let samplesPerFrame: Int
    let length: Int // bytes, header included
    let channels: Int
    let isMPEG1: Bool

    private static let bitrates: [[Int]] = [
        // MPEG1 layer I, II, III
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
        // MPEG2/2.5 layer I, II/III
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ]

    init?(_ bytes: [UInt8], at i: Int) {
        guard i + 4 <= bytes.count, bytes[i] == 0xFF, bytes[i + 1] & 0xE0 == 0xE0 else { return nil }
        let versionBits = (bytes[i + 1] >> 3) & 0x03 // 0: 2.5, 2: 2, 3: 1
        let layerBits = (bytes[i + 1] >> 1) & 0x03 // 1: III, 2: II, 3: I
        let bitrateIndex = Int(bytes[i + 2] >> 4)
        let rateIndex = Int((bytes[i + 2] >> 2) & 0x03)
        let padding = Int((bytes[i + 2] >> 1) & 0x01)
        guard versionBits != 1, layerBits != 0, bitrateIndex != 0, bitrateIndex != 15, rateIndex != 3 else { return nil }
        let baseRates = [44100, 48000, 32000]
        let divisor = versionBits == 3 ? 1 : (versionBits == 2 ? 2 : 4)
        sampleRate = baseRates[rateIndex] / divisor
        isMPEG1 = versionBits == 3
        let layer = 4 - Int(layerBits) // 1, 2 or 3
        let table = isMPEG1 ? layer - 1 : (layer == 1 ? 3 : 4)
        bitrate = Self.bitrates[table][bitrateIndex] * 1000
        switch layer {
        case 1: samplesPerFrame = 384
        case 2: samplesPerFrame = 1152
        default: samplesPerFrame = isMPEG1 ? 1152 : 576
        }
        if layer == 1 {
            length = (12 * bitrate / sampleRate + padding) * 4
        } else {
            length = samplesPerFrame / 8 * bitrate / sampleRate + padding
        }
        channels = (bytes[i + 3] >> 6) == 3 ? 1 : 2
        guard length >= 4 else { return nil }
    }
}
