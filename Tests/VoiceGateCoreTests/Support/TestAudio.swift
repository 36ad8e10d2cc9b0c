import Foundation
@testable import VoiceGateCore

/// Audio made in code for tests: tones as WAV, and the committed fixtures for other containers.
enum TestAudio {
    static func wav(seconds: Double, sampleRate: Int = 16000, frequency: Double = 200, channels: Int = 1) -> Data {
        let frames = Int(seconds * Double(sampleRate))
        var pcm = [UInt8]()
        pcm.reserveCapacity(frames * 2 * channels)
        for i in 0..<frames {
            let v = Int16(10000 * sin(2 * Double.pi * frequency * Double(i) / Double(sampleRate)))
            for _ in 0..<channels { pcm += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
        }
        return Data(WAVHeader.canonical(sampleRate: sampleRate, channels: channels, dataSize: pcm.count) + pcm)
    }

    static func fixture(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }

    static func fixturePath(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!.path
    }
}
