import Foundation

/// `archive.zip`: every finished item's WAV, the joined audio, both subtitle files and a JSON manifest, in a ZIP
/// written to a temporary file a block at a time (stored, not compressed: the audio is compressed already, or WAV).
/// ZIP64 is not written: an archive past 4 GiB is refused with a clear error.
enum JobArchive {
    /// Builds the archive in the job's folder; the caller serves and removes it.
    static func build(_ results: JobResults, files: JobFiles, manifest: [UInt8]) throws -> String {
        let job = results.job
        var entries: [(name: String, source: Source)] = [("manifest.json", .bytes(manifest))]
        if let joined = try results.joinedAudio(in: files) {
            entries.append(("\(job.id).\(job.settings.format.fileExtension)", .file(joined)))
        }
        for format in SubtitleFile.Format.allCases {
            entries.append(("\(job.id).\(format.rawValue)", .bytes(Array(results.subtitles(format).utf8))))
        }
        for item in results.finished {
            let name = item.clientID.map { "items/\(item.index)-\(safeName($0)).wav" } ?? "items/\(item.index).wav"
            entries.append((name, .file(files.path(job.id, item.fileName ?? ""))))
        }
        let path = files.path(job.id, "archive-\(UUID().uuidString.prefix(8)).zip.part")
        do {
            try write(entries, to: path)
        } catch {
            unlink(path)
            throw error
        }
        return path
    }

    enum Source {
        case bytes([UInt8])
        case file(String)
    }

    /// A client's item id, made safe as part of a file name inside the archive.
    static func safeName(_ id: String) -> String {
        String(id.prefix(64).map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
    }

    static func write(_ entries: [(name: String, source: Source)], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw GatewayError(500, "storage_error", "cannot write the archive in the jobs folder")
        }
        defer { try? out.close() }
        var central: [UInt8] = []
        var offset = 0
        let (time, date) = dosTime(Date())
        for (name, source) in entries {
            // The CRC and size first (a file is read twice): the local header then needs no data descriptor.
            var crc = CRC32()
            var size = 0
            try read(source) { block in
                crc.update(block)
                size += block.count
            }
            guard offset + size < Int(UInt32.max) - 65536 else {
                throw GatewayError(507, "archive_too_large", "the job's files together pass 4 GiB, more than a ZIP without ZIP64 holds; fetch the items one by one")
            }
            let nameBytes = Array(name.utf8)
            var local: [UInt8] = []
            local.le32(0x0403_4B50); local.le16(20); local.le16(0x0800); local.le16(0); local.le16(time); local.le16(date)
            local.le32(crc.value); local.le32(UInt32(size)); local.le32(UInt32(size)); local.le16(UInt16(nameBytes.count)); local.le16(0)
            local += nameBytes
            try out.write(contentsOf: local)
            try read(source) { try out.write(contentsOf: $0) }
            central.le32(0x0201_4B50); central.le16(20); central.le16(20); central.le16(0x0800); central.le16(0); central.le16(time)
            central.le16(date); central.le32(crc.value); central.le32(UInt32(size)); central.le32(UInt32(size))
            central.le16(UInt16(nameBytes.count)); central.le16(0); central.le16(0); central.le16(0); central.le16(0); central.le32(0)
            central.le32(UInt32(offset))
            central += nameBytes
            offset += local.count + size
        }
        var end: [UInt8] = []
        end.le32(0x0605_4B50); end.le16(0); end.le16(0); end.le16(UInt16(entries.count)); end.le16(UInt16(entries.count))
        end.le32(UInt32(central.count)); end.le32(UInt32(offset)); end.le16(0)
        try out.write(contentsOf: central + end)
    }

    private static func read(_ source: Source, _ body: ([UInt8]) throws -> Void) throws {
        switch source {
        case .bytes(let bytes): try body(bytes)
        case .file(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw GatewayError(503, "job_file_missing", "an item's audio is missing from this gateway's jobs folder", retryAfter: 30)
            }
            defer { try? handle.close() }
            while let data = try handle.read(upToCount: 256 * 1024), !data.isEmpty { try body([UInt8](data)) }
        }
    }

    /// MS-DOS time and date, as ZIP keeps them (UTC here).
    static func dosTime(_ date: Date) -> (UInt16, UInt16) {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let time = UInt16((c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2)
        let day = UInt16(max(0, (c.year ?? 1980) - 1980) << 9 | (c.month ?? 1) << 5 | (c.day ?? 1))
        return (time, day)
    }
}

/// CRC-32 (IEEE, as ZIP and PNG use), by table.
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    private var crc: UInt32 = 0xFFFF_FFFF

    mutating func update(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { crc = Self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }

    var value: UInt32 { crc ^ 0xFFFF_FFFF }
}

extension [UInt8] {
    mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    mutating func le32(_ v: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(shift)) & 0xFF)) } }
}
