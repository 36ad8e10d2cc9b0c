// A workers file (WORKERS_FILE) of arbitrary bytes, read as YAML and as JSON through swift-configuration and Yams:
// it is a ConfigError (one line at startup) or workers with valid names, http(s) URLs and sane concurrency, never
// a trap. The first byte picks the format.
import Dispatch
import Foundation
import FuzzDriver
#if FUZZING
@testable import VoiceGateCore

let folder = NSTemporaryDirectory() + "fuzz-workers-\(getpid())"
try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

final class Outcome: @unchecked Sendable { var text: String? }

fuzz { data, count in
    let all = bytes(data, count)
    guard let first = all.first else { return 0 }
    let path = folder + (first & 1 == 0 ? "/workers.yaml" : "/workers.json")
    guard FileManager.default.createFile(atPath: path, contents: Data(all.dropFirst())) else { return 0 }
    let done = DispatchSemaphore(value: 0)
    let outcome = Outcome()
    // Detached: top-level code is on the main actor, which the semaphore below holds.
    Task.detached {
        defer { done.signal() }
        do {
            let specs = try await WorkerCatalog.fromFile(path, environment: [:], defaultConcurrency: 1)
            if specs.isEmpty { outcome.text = "accepted a file with no worker" }
            for spec in specs {
                if !WorkerSpec.isValidName(spec.name) { outcome.text = "accepted the name \(spec.name.debugDescription)" }
                if WorkerSpec.normalizedURL(spec.url) != spec.url { outcome.text = "accepted the URL \(spec.url.debugDescription)" }
                if !(1...64).contains(spec.concurrency) { outcome.text = "accepted concurrency \(spec.concurrency)" }
            }
        } catch is ConfigError {
        } catch {
            outcome.text = "failed with \(error), not a ConfigError"
        }
    }
    done.wait()
    if let text = outcome.text { violated(text) }
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
