import Foundation
import VoiceGateCore

// How fast each served format encodes on one core, in times real time:
//   encoder-bench SPEECH.wav [seconds of audio, default 60] [rounds, default 5]
// The recording is repeated to the length asked and encoded whole (LAME, libopusenc and libFLAC work frame by frame
// either way, single-threaded); the median of the rounds is printed. Pin it to one core with `taskset -c 0`.
let arguments = CommandLine.arguments
guard arguments.count > 1, let source = FileManager.default.contents(atPath: arguments[1]),
      let header = WAVHeader.parse([UInt8](source)) else {
    FileHandle.standardError.write(Data("usage: encoder-bench SPEECH.wav [seconds] [rounds]\n".utf8))
    exit(2)
}
let seconds = arguments.count > 2 ? Double(arguments[2]) ?? 60 : 60
let rounds = arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5
let samples = [UInt8](source[header.dataOffset..<min(source.count, header.dataOffset + header.dataSize)])
var pcm: [UInt8] = []
let wanted = Int(seconds * Double(header.byteRate)) & ~1
while pcm.count < wanted { pcm += samples.prefix(wanted - pcm.count) }
let wav = WAVHeader.canonical(sampleRate: header.sampleRate, channels: header.channels, dataSize: pcm.count) + pcm
let audioSeconds = Double(pcm.count) / Double(header.byteRate)
print("\(DecimalText.format(audioSeconds, places: 1)) s of \(header.sampleRate) Hz, \(header.channels) channel(s); median of \(rounds) rounds")
for format in [SpeechFormat.mp3, .opus, .flac] {
    var times: [Double] = []
    var size = 0
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        size = try format.encode(wav: wav).count
        times.append((ContinuousClock.now - start).seconds)
    }
    let median = times.sorted()[times.count / 2]
    print("\(format.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(DecimalText.format(median * 1000, places: 1)) ms  "
          + "\(DecimalText.format(audioSeconds / median, places: 0))x real time  \(size / 1024) KiB "
          + "(\(DecimalText.format(Double(size) * 8 / audioSeconds / 1000, places: 0)) kbit/s)")
}
