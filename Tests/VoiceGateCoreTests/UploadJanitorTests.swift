import Foundation
import Logging
import Testing
@testable import VoiceGateCore
#if canImport(Glibc)
import Glibc
#endif

/// The uploads' retention on a real folder, with modification times set as uses would set them.
@Suite("Upload janitor")
struct UploadJanitorTests {
    let quiet = Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }

    func upload(_ dir: String, _ seed: Int, bytes: Int, usedSecondsAgo: Double, ext: String = "wav") -> String {
        let name = String(repeating: String(seed % 10), count: 64) + "." + ext
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(repeating: 1, count: bytes))
        let when = Date().timeIntervalSince1970 - usedSecondsAgo
        var times = [timeval(tv_sec: Int(when), tv_usec: 0), timeval(tv_sec: Int(when), tv_usec: 0)]
        utimes(path, &times)
        return name
    }

    func folder() throws -> ReferenceStore {
        let store = ReferenceStore(directory: NSTemporaryDirectory() + "vg-janitor-" + UUID().uuidString)
        #expect(store.prepare() == nil)
        return store
    }

    func exists(_ store: ReferenceStore, _ name: String) -> Bool { FileManager.default.fileExists(atPath: store.directory + "/" + name) }

    @Test func oldUploadsGoAndTheLeastRecentlyUsedGoFirstPastTheSizeButNoneWithinTheGrace() throws {
        let store = try folder()
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        let stale = upload(store.directory, 1, bytes: 100, usedSecondsAgo: 7200)
        let older = upload(store.directory, 2, bytes: 400, usedSecondsAgo: 300)
        let newer = upload(store.directory, 3, bytes: 400, usedSecondsAgo: 200)
        let inUse = upload(store.directory, 4, bytes: 400, usedSecondsAgo: 5)
        try FileManager.default.createDirectory(atPath: store.directory + "/voices", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: store.directory + "/voices/" + stale, contents: Data(count: 10_000))
        FileManager.default.createFile(atPath: store.directory + "/notes.txt", contents: Data(count: 10_000))
        let janitor = UploadJanitor(store: store, retention: UploadRetention(keepSeconds: 3600, maxBytes: 900, graceSeconds: 60),
                                    watch: store.watch, logger: quiet)
        let sweep = janitor.sweep()
        // 1,300 bytes: the stale one goes by age, then the oldest until within 900; the one in use stays.
        #expect(!exists(store, stale) && !exists(store, older))
        #expect(exists(store, newer) && exists(store, inUse))
        #expect(sweep == UploadJanitor.Sweep(removed: 2, freedBytes: 500, keptBytes: 800, keptFiles: 2))
        #expect(FileManager.default.fileExists(atPath: store.directory + "/voices/" + stale))
        #expect(FileManager.default.fileExists(atPath: store.directory + "/notes.txt"))
        #expect(janitor.figures == (removed: 2, keptBytes: 800))
    }

    @Test func aTightLimitStillSparesWhatARequestMayNeedAndPartialUploadsOfACrashGo() throws {
        let store = try folder()
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        let a = upload(store.directory, 5, bytes: 1000, usedSecondsAgo: 10)
        let b = upload(store.directory, 6, bytes: 1000, usedSecondsAgo: 20)
        FileManager.default.createFile(atPath: store.incomingDirectory + "/crashed.part", contents: Data(count: 10))
        var old = [timeval(tv_sec: 1_000_000, tv_usec: 0), timeval(tv_sec: 1_000_000, tv_usec: 0)]
        utimes(store.incomingDirectory + "/crashed.part", &old)
        FileManager.default.createFile(atPath: store.incomingDirectory + "/writing.part", contents: Data(count: 10))
        let janitor = UploadJanitor(store: store, retention: UploadRetention(keepSeconds: 3600, maxBytes: 1, graceSeconds: 60),
                                    watch: store.watch, logger: quiet)
        #expect(janitor.sweep().removed == 0)
        #expect(exists(store, a) && exists(store, b))
        #expect(!FileManager.default.fileExists(atPath: store.incomingDirectory + "/crashed.part"))
        #expect(FileManager.default.fileExists(atPath: store.incomingDirectory + "/writing.part"))
    }

    @Test func aFullDiskIs507WithRetryAfterAndDegradedHealthUntilAWriteSucceeds() throws {
        let watch = StorageWatch()
        let full = watch.refusedUpload("cannot write the upload to disk", errno: ENOSPC)
        #expect(full.statusCode == 507 && full.code == "storage_full" && full.retryAfter == 30)
        #expect(watch.problem?.contains("No space left on device") == true)
        var snapshot = HealthMonitor.Snapshot()
        snapshot.upstream = .up(latency: 0.01)
        snapshot.storageProblem = watch.problem
        let report = HealthReport(snapshot: snapshot, embeddedEngine: false)
        #expect(report.status == .degraded && report.message?.contains("full") == true)
        let other = watch.refusedUpload("cannot write the upload to disk", errno: EIO)
        #expect(other.statusCode == 500 && other.code == "storage_error")
        #expect(watch.refusals == 1)
        watch.uploadWritten()
        #expect(watch.problem == nil)
        watch.historyRefused(StoreError.unsupported("database or disk is full"), waiting: 12)
        #expect(watch.problem?.contains("12 rows waiting") == true)
        watch.historyWritten()
        #expect(watch.problem == nil)
    }
}
