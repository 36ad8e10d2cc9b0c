import Crypto
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// An upload being written to disk as it arrives, hashed on the way. Deleted unless committed.
final class IncomingFile {
    let path: String
    private var fd: Int32
    private var hasher = SHA256()
    private(set) var size = 0
    /// The first bytes, to find this reference again when it is uploaded again.
    private(set) var head: [UInt8] = []
    private let watch: StorageWatch

    init(directory: String, watch: StorageWatch) throws {
        self.watch = watch
        path = directory + "/" + UUID().uuidString + ".part"
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw watch.refusedUpload("cannot create an upload file in \(directory)") }
    }

    func write(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { raw in
            hasher.update(bufferPointer: raw)
            if head.count < KnownReferences.keyLength { head += raw.prefix(KnownReferences.keyLength - head.count) }
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw watch.refusedUpload("cannot write the upload to disk")
                }
                offset += n
            }
        }
        size += buffer.readableBytes
    }

    /// Closes the file and returns the hex SHA-256 of its content.
    func finish() -> String {
        closeFile()
        return hasher.finalize().hex
    }

    func discard() {
        closeFile()
        unlink(path)
    }

    private func closeFile() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { closeFile() }
}
