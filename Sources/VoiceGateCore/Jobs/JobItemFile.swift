import Foundation
import NIOCore
import NIOPosix

/// An item's WAV as it is written: into `NAME.part` on NIO's thread pool, renamed to its name once complete, so the
/// jobs folder never holds part of an item under an item's name. Used by one task at a time: the item's while its
/// answer arrives, then the one that writes out its last piece.
final class JobItemFile: @unchecked Sendable {
    let fileName: String
    private let destination: String
    private let partial: String
    private let handle: FileHandle
    private(set) var bytes = 0

    init(_ files: JobFiles, job: String, index: Int) throws {
        try files.prepare(job)
        fileName = JobFiles.itemFileName(index: index)
        destination = files.path(job, fileName)
        partial = destination + ".part"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw GatewayError(500, "storage_error", "cannot write the item's audio in the jobs folder")
        }
        self.handle = handle
    }

    /// Writes the answer until its last piece has arrived (its worker is free from then on) and returns that piece
    /// unwritten; nil when nothing is left.
    func write(untilAnswered result: SynthesisResult) async throws -> ByteBuffer? {
        while let chunk = try await result.next() {
            try Task.checkCancellation()
            if result.isAnswered { return chunk }
            try await append(chunk)
        }
        return nil
    }

    /// Writes `last`, puts the file in place and reads back its length in milliseconds.
    func finish(_ last: ByteBuffer?) async throws -> Int {
        if let last { try await append(last) }
        try handle.close()
        guard rename(partial, destination) == 0 else {
            throw GatewayError(500, "storage_error", "cannot move the item's audio into place: \(String(cString: strerror(errno)))")
        }
        return try AudioJoiner.Item(path: destination).durationMs
    }

    /// Removes what was written.
    func discard() {
        try? handle.close()
        unlink(partial)
    }

    private func append(_ chunk: ByteBuffer) async throws {
        bytes += chunk.readableBytes
        try await NIOThreadPool.singleton.runIfActive { [handle] in try handle.write(contentsOf: chunk.readableBytesView) }
    }
}
