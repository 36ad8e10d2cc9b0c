import Foundation

/// Tab completion of file paths: completes to the longest common prefix of the matches.
public enum PathCompletion {
    public static func complete(_ typed: String, fileManager: FileManager = .default) -> (completed: String, matches: [String]) {
        let expanded = (typed as NSString).expandingTildeInPath
        let directory: String
        let prefix: String
        if expanded.hasSuffix("/") {
            directory = expanded
            prefix = ""
        } else {
            let d = (expanded as NSString).deletingLastPathComponent
            directory = d.isEmpty ? "." : d
            prefix = (expanded as NSString).lastPathComponent
        }
        guard let entries = try? fileManager.contentsOfDirectory(atPath: directory) else { return (typed, []) }
        let matches = entries.filter { $0.hasPrefix(prefix) && !$0.hasPrefix(".") || (prefix.hasPrefix(".") && $0.hasPrefix(prefix)) }.sorted()
        guard let first = matches.first else { return (typed, []) }
        var common = first
        for m in matches.dropFirst() { while !m.hasPrefix(common) { common.removeLast() } }
        let base = expanded.hasSuffix("/") ? expanded : (expanded as NSString).deletingLastPathComponent
        var completed = base.isEmpty ? common : (base == "/" ? "/" + common : base + "/" + common)
        if matches.count == 1 {
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: completed, isDirectory: &isDirectory), isDirectory.boolValue { completed += "/" }
        }
        return (completed, matches)
    }
}
