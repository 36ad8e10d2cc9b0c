import Foundation
import Logging
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the uploaded references within `UploadRetention` (age, total size, free space on the disk): a sweep a
/// minute (more often with a short grace), and at once when a write found the disk full. An upload's modification time is its last use (set when it is stored and when an equal upload
/// reuses it), which every gateway sharing the folder sees; none goes while used within the grace. Partial
/// uploads left by a crash go once older than the grace too.
public final class UploadJanitor: Service, Sendable {
    public struct Sweep: Sendable, Equatable {
        public var removed = 0
        public var freedBytes = 0
        public var keptBytes = 0
        public var keptFiles = 0
    }

    private struct Upload {
        let name: String
        let path: String
        let size: Int
        let modified: Double
    }

    let store: ReferenceStore
    let retention: UploadRetention
    let watch: StorageWatch
    let interval: Duration
    let logger: Logger
    private let totals = Mutex((removed: 0, keptBytes: 0))

    public init(store: ReferenceStore, retention: UploadRetention, watch: StorageWatch, interval: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.retention = retention
        self.watch = watch
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let wakeUps = watch.wakeUps()
        await withDiscardingTaskGroup { group in
            group.addTask { [watch, interval] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    watch.wake()
                }
            }
            await cancelWhenGracefulShutdown {
                self.sweepAndReport()
                for await _ in wakeUps { self.sweepAndReport() }
            }
            group.cancelAll()
        }
    }

    /// Uploads removed since the start, and the bytes the kept ones take (as of the last sweep).
    public var figures: (removed: Int, keptBytes: Int) { totals.withLock { $0 } }

    private func sweepAndReport() {
        let result = sweep()
        if result.removed > 0 {
            logger.info("uploads: removed \(result.removed) (\(result.freedBytes / 1024) KiB) not used lately; \(result.keptFiles) kept, \(result.keptBytes / 1024) KiB")
        }
    }

    /// One pass over the folder.
    @discardableResult
    public func sweep(now: Date = Date()) -> Sweep {
        let clock = now.timeIntervalSince1970
        let uploads = list(store.directory).filter { Self.isUpload($0.name) }.sorted { $0.modified < $1.modified }
        var result = Sweep()
        var total = uploads.reduce(0) { $0 + $1.size }
        var free = freeBytes()
        var kept: [Upload] = []
        for upload in uploads { // least recently used first
            let idle = clock - upload.modified
            let due = idle > retention.keepSeconds || total > retention.maxBytes || free < retention.minFreeBytes
            guard due, idle >= retention.graceSeconds, remove(upload) else {
                kept.append(upload)
                continue
            }
            total -= upload.size
            free += upload.size
            result.removed += 1
            result.freedBytes += upload.size
        }
        for part in list(store.incomingDirectory) where part.name.hasSuffix(".part") && clock - part.modified >= retention.graceSeconds {
            _ = remove(part)
        }
        result.keptFiles = kept.count
        result.keptBytes = kept.reduce(0) { $0 + $1.size }
        totals.withLock { $0 = (removed: $0.removed + result.removed, keptBytes: result.keptBytes) }
        return result
    }

    /// `<64 hex digits>.<format>`: what `ReferenceStore.commit` names an upload.
    static func isUpload(_ name: String) -> Bool {
        let utf8 = Array(name.utf8)
        guard utf8.count > 65, utf8[64] == UInt8(ascii: "."),
              AudioFormat(rawValue: String(decoding: utf8[65...], as: UTF8.self)) != nil else { return false }
        return utf8[..<64].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    /// Bytes an unprivileged writer may still use on the folder's file system.
    private func freeBytes() -> Int {
        var info = statvfs()
        guard statvfs(store.directory, &info) == 0 else { return Int.max }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    private func list(_ directory: String) -> [Upload] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.compactMap { name in
            let path = directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Upload(name: name, path: path, size: Int(info.st_size), modified: Self.seconds(info.st_mtim))
        }
    }

    /// Looks again just before removing: an upload reused since the listing stays.
    private func remove(_ upload: Upload) -> Bool {
        var info = stat()
        guard stat(upload.path, &info) == 0, Self.seconds(info.st_mtim) <= upload.modified else { return false }
        guard unlink(upload.path) == 0 else { return false }
        store.known.forget(upload.name)
        return true
    }

    private static func seconds(_ time: timespec) -> Double { Double(time.tv_sec) + Double(time.tv_nsec) / 1e9 }
}
