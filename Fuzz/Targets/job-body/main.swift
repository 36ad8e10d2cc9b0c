// A job's JSON body (POST /api/v1/jobs) read and checked into a job and its items, with small limits so that
// inputs of a few KiB reach them. Bad input is a GatewayError 4xx, never a trap; what is accepted is within the
// limits and ranges the API documents.
import FuzzDriver
#if FUZZING
import Foundation
@testable import VoiceGateCore

let limits = JobSubmission.Limits(maxItems: 40, maxCharacters: 2000)
let callbacks = JobCallbacks(allowedHosts: nil, keys: KeyRing([]), logger: .init(label: "fuzz")) { _ in nil }

fuzz { data, count in
    do {
        let submission = try JobsController.submission(json: try JSONBody(Data(bytes(data, count))))
        let (job, items) = try submission.job(id: JobFiles.makeID(), key: "fuzz", limits: limits, now: Date(),
                                              callbackRefusal: callbacks.refusal)
        if items.isEmpty || items.count > limits.maxItems || job.total != items.count { violated("accepted \(items.count) items, total \(job.total)") }
        if items.reduce(0, { $0 + $1.text.count }) > limits.maxCharacters { violated("accepted more than \(limits.maxCharacters) characters") }
        for (n, item) in items.enumerated() where item.index != n || item.text.isBlank || item.text.count > SynthesisFields.maxTextLength {
            violated("accepted item \(n): \(item.text.count) characters, index \(item.index)")
        }
        let s = job.settings
        if !JobSubmission.pauseRange.contains(s.pauseMs) || !JobSubmission.maxSpeedRange.contains(s.maxSpeed)
            || !JobSubmission.parallelRange.contains(s.parallel)
            || !(s.speed.map(SynthesisFields.speedRange.contains) ?? true) {
            violated("accepted settings out of range: \(s)")
        }
        if job.subtitles != items.allSatisfy({ $0.cue != nil }) { violated("a subtitle job's items without cues, or the reverse") }
        if let url = s.callbackURL, callbacks.refusal(url) != nil { violated("accepted the callback \(url)") }
    } catch let error as GatewayError {
        if !(400..<500).contains(error.statusCode) { violated("a body was answered \(error.statusCode) \(error.code)") }
    } catch {
        violated("an error that is not the gateway's: \(error)")
    }
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
