// The audio inspector on arbitrary files: WAV/FLAC/OGG/MP3 heads and tails, absurd declared sizes and counts.
// Both entry points (the file on disk, as uploads are checked, and head/tail bytes), and the WAV decoder the
// embedded engine runs on a reference. Any answer is fine; a trap is not, nor a duration that is not a number.
import FuzzDriver
#if FUZZING
import Foundation
@testable import VoiceGateCore

enum AudioTarget {
    static let path = NSTemporaryDirectory() + "voicegate-fuzz-audio-\(getpid())"

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = [UInt8](input)
        // The inspector is also asked as if the file went on past what was read (an MP3's CBR arithmetic, WAV sizes).
        for fileSize in [bytes.count, bytes.count + 1 << 20] {
            if let info = try? AudioInspector.inspect(head: bytes, tail: Array(bytes.suffix(64 * 1024)), fileSize: fileSize) {
                check(info)
            }
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { violated("cannot write \(path)") }
        if let info = try? AudioInspector.inspect(path: path) { check(info) }
        _ = try? PCMDecoder.decodeWAV(bytes)
    }

    static func check(_ info: AudioInfo) {
        if info.duration.isNaN { violated("duration NaN for \(info)") }
    }
}

fuzz { data, count in
    AudioTarget.run(bytes(data, count))
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
