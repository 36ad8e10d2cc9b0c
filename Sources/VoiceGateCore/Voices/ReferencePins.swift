import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Which saved voices' files requests still need. A voice deleted while a request that uses it waits in the queue
/// keeps its file until that request lets go; then the file goes.
public final class ReferencePins: Sendable {
    private struct State {
        var holds: [String: Int] = [:]
        /// Paths to remove once nothing holds them.
        var doomed: [String: String] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func hold(_ fileName: String) -> ReferenceHold {
        state.withLock { $0.holds[fileName, default: 0] += 1 }
        return ReferenceHold(pins: self, fileName: fileName)
    }

    /// Removes `path` now, or when the last request holding `fileName` ends.
    public func remove(_ fileName: String, path: String) {
        let now = state.withLock { s -> Bool in
            guard s.holds[fileName, default: 0] > 0 else { return true }
            s.doomed[fileName] = path
            return false
        }
        if now { unlink(path) }
    }

    /// A file kept again by a new voice before its last holder let go.
    public func keep(_ fileName: String) {
        state.withLock { _ = $0.doomed.removeValue(forKey: fileName) }
    }

    public func isHeld(_ fileName: String) -> Bool { state.withLock { $0.holds[fileName, default: 0] > 0 } }

    fileprivate func release(_ fileName: String) {
        let path = state.withLock { s -> String? in
            let left = s.holds[fileName, default: 1] - 1
            s.holds[fileName] = left > 0 ? left : nil
            return left > 0 ? nil : s.doomed.removeValue(forKey: fileName)
        }
        if let path { unlink(path) }
    }
}

/// One request's hold on a voice's file, let go when the request is dropped.
public final class ReferenceHold: Sendable {
    private let pins: ReferencePins
    public let fileName: String

    fileprivate init(pins: ReferencePins, fileName: String) {
        self.pins = pins
        self.fileName = fileName
    }

    deinit { pins.release(fileName) }
}
