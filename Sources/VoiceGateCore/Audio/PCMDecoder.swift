import Foundation

/// Decodes a PCM or float WAV file to mono samples in -1...1 (stereo averaged, as GPT-SoVITS does).
public enum PCMDecoder {
    public static func decodeWAV(path: String) throws -> (samples: [Float], sampleRate: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { throw AudioInspectionError("the file cannot be read") }
        return try decodeWAV([UInt8](data))
    }

    public static func decodeWAV(_ bytes: [UInt8]) throws -> (samples: [Float], sampleRate: Int) {
        guard let h = WAVHeader.parse(Array(bytes.prefix(64 * 1024))) else { throw AudioInspectionError("not a WAV file") }
        let isFloat = h.formatTag == 3
        let width = h.bitsPerSample / 8
        guard [1, 0xFFFE, 3].contains(h.formatTag), [1, 2, 3, 4].contains(width), h.channels > 0 else {
            throw AudioInspectionError("WAV encoding \(h.formatTag)/\(h.bitsPerSample)-bit cannot be decoded here")
        }
        let end = h.dataSizeIsUnknown ? bytes.count : min(bytes.count, h.dataOffset + h.dataSize)
        let frameBytes = width * h.channels
        let frames = max(0, (end - h.dataOffset) / frameBytes)
        var out = [Float](repeating: 0, count: frames)
        bytes.withUnsafeBufferPointer { p in
            for f in 0..<frames {
                var sum: Float = 0
                for c in 0..<h.channels {
                    let i = h.dataOffset + f * frameBytes + c * width
                    sum += sample(p, i, width: width, isFloat: isFloat)
                }
                out[f] = sum / Float(h.channels)
            }
        }
        return (out, h.sampleRate)
    }

    private static func sample(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, width: Int, isFloat: Bool) -> Float {
        switch width {
        case 1: return (Float(p[i]) - 128) / 128
        case 2: return Float(Int16(bitPattern: UInt16(p[i]) | UInt16(p[i + 1]) << 8)) / 32768
        case 3:
            let v = Int32(bitPattern: UInt32(p[i]) << 8 | UInt32(p[i + 1]) << 16 | UInt32(p[i + 2]) << 24) >> 8
            return Float(v) / 8_388_608
        default:
            let bits = UInt32(p[i]) | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2]) << 16 | UInt32(p[i + 3]) << 24
            return isFloat ? Float(bitPattern: bits) : Float(Int32(bitPattern: bits)) / 2_147_483_648
        }
    }
}
