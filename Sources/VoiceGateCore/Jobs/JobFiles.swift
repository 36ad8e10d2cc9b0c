import Foundation

/// The jobs' folder (`JOBS_DIR`): one folder per job named by its id, holding each item's WAV and the joined files
/// built from them. Every path is made here from a job id the store gave out and a file name this gateway chose,
/// never from the request.
public struct JobFiles: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Ids this gateway gives out: 32 lowercase hex digits.
    public static func makeID() -> String {
        UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    public func folder(_ job: String) -> String { root + "/" + job }

    public func path(_ job: String, _ fileName: String) -> String { folder(job) + "/" + fileName }

    /// A new name for an item's audio: a regeneration writes a new file, so a joined file being read keeps its own.
    static func itemFileName(index: Int) -> String {
        "item-\(index)-\(UUID().uuidString.prefix(8).lowercased()).wav"
    }

    /// Creates the job's folder if needed.
    func prepare(_ job: String) throws {
        try FileManager.default.createDirectory(atPath: folder(job), withIntermediateDirectories: true)
    }

    /// The folder and everything in it.
    public func remove(_ job: String) {
        guard Self.isValidID(job) else { return }
        try? FileManager.default.removeItem(atPath: folder(job))
    }

    /// Removes a file of the job's folder unless it is one of `keep`.
    func removeFiles(of job: String, where shouldRemove: (String) -> Bool) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder(job)) else { return }
        for name in names where shouldRemove(name) { unlink(path(job, name)) }
    }
}
