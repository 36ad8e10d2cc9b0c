import MultipartKit
import NIOCore

/// Reads a `multipart/form-data` synthesis body as it arrives: text fields into memory (bounded), the
/// `reference_audio` file to an `UploadSink` (straight to disk, or compared with an equal stored reference).
/// Nothing is held whole; an oversized file is refused mid-stream.
struct SynthesisUploadReader {
    static let fileField = "reference_audio"
    static let maxFieldBytes = 64 * 1024
    static let parserPiece = 1024
    static let knownFields: Set<String> = ["text", "language", "speed", "temperature", "prompt_text", "prompt_language", "seed", "stream"]

    let boundary: String
    let store: ReferenceStore
    let limits: ReferenceLimits

    /// The fields and the upload (nil when no file was sent): a reference already stored, or a new file the
    /// caller owns, still to check.
    func read<Body: AsyncSequence>(_ body: Body) async throws -> (SynthesisFields, UploadSink.Outcome?) where Body.Element == ByteBuffer {
        let parser = MultipartParser(boundary: boundary)
        let state = PartState(limits: limits)
        parser.onHeader = { name, value in state.header(name: name, value: value) }
        parser.onBody = { chunk in state.body(&chunk) }
        parser.onPartComplete = { state.complete() }
        let delimiter = DelimiterSearch(boundary: boundary)
        let closing = Array("--\(boundary)--".utf8)
        var recent = RecentBytes(capacity: max(delimiter.count, closing.count + 4))
        do {
            for try await var chunk in body {
                while chunk.readableBytes > 0 {
                    if state.isInFileBody, !delimiter.isPending(after: recent) {
                        // The parser would hand these bytes to the file one CR at a time (audio is full of them),
                        // staying in the part's body: up to where a delimiter might begin, write them directly.
                        let direct = delimiter.bodyLength(in: chunk)
                        if direct > 0 {
                            let bytes = chunk.readSlice(length: direct)!
                            try state.writeFileBytes(bytes, store: store)
                            recent.append(bytes)
                            continue
                        }
                    }
                    // Small pieces outside the file's body, so the fast path resumes soon after its headers.
                    let piece = chunk.readSlice(length: min(chunk.readableBytes, Self.parserPiece))!
                    do {
                        try parser.execute(piece)
                    } catch {
                        throw GatewayError.invalid("malformed_multipart", "the multipart body is malformed")
                    }
                    if let error = state.error { throw error }
                    if let pending = state.takePendingFileBytes() {
                        try state.writeFileBytes(pending, store: store, counted: true)
                    }
                    recent.append(piece)
                }
            }
        } catch {
            state.sink?.discard()
            throw error
        }
        guard recent.contains(closing) else {
            state.sink?.discard()
            throw GatewayError.invalid("malformed_multipart", "the multipart body ended before its closing boundary (upload cut short?)")
        }
        if state.fileSeen, state.sink == nil {
            throw GatewayError.invalid("missing_reference_audio", "reference_audio is empty (0 bytes)")
        }
        do {
            return (state.fields, try state.sink?.finish())
        } catch {
            state.sink?.discard()
            throw error
        }
    }
}

/// Parser callbacks cannot throw: they record into this state, which the reader checks after every chunk.
private final class PartState {
    let limits: ReferenceLimits
    var fields = SynthesisFields()
    var sink: UploadSink?
    var error: GatewayError?
    private var name: String?
    private var isFile = false
    private var value: [UInt8] = []
    private var pendingFile = ByteBuffer()
    private var fileBytes = 0
    private(set) var fileSeen = false
    private var fileBodyStarted = false

    /// True once the parser has handed over bytes of the file part and until that part completes: then, unless
    /// it is part-way through a possible delimiter, the parser is in the part's body.
    var isInFileBody: Bool { isFile && fileBodyStarted && error == nil }

    init(limits: ReferenceLimits) { self.limits = limits }

    func header(name headerName: String, value headerValue: String) {
        guard headerName.lowercased() == "content-disposition" else { return }
        name = Self.parameter("name", in: headerValue)
        isFile = name == SynthesisUploadReader.fileField
        if isFile {
            if fileSeen { fail(.invalid("duplicate_field", "reference_audio was sent more than once")) }
            fileSeen = true
        }
    }

    func body(_ chunk: inout ByteBuffer) {
        guard error == nil, let name else { return }
        if isFile {
            fileBodyStarted = true
            guard count(fileBytes: chunk.readableBytes) else { return }
            pendingFile.writeBuffer(&chunk)
        } else if SynthesisUploadReader.knownFields.contains(name) {
            guard value.count + chunk.readableBytes <= SynthesisUploadReader.maxFieldBytes else {
                fail(.invalid("field_too_large", "field \(name) is larger than \(SynthesisUploadReader.maxFieldBytes) bytes"))
                return
            }
            value += chunk.readableBytesView
        }
    }

    func complete() {
        defer { name = nil; isFile = false; value = [] }
        guard error == nil, let name, !isFile, SynthesisUploadReader.knownFields.contains(name) else { return }
        guard let text = String(validating: value, as: UTF8.self) else {
            fail(.invalid("invalid_encoding", "field \(name) is not valid UTF-8"))
            return
        }
        switch name {
        case "text": fields.text = text
        case "language": fields.language = text
        case "speed": fields.speed = text
        case "temperature": fields.temperature = text
        case "prompt_text": fields.promptText = text
        case "prompt_language": fields.promptLanguage = text
        case "seed": fields.seed = text
        case "stream": fields.stream = text
        default: break
        }
    }

    /// Hands file bytes to the upload; `counted` when `body(_:)` already counted them.
    func writeFileBytes(_ bytes: ByteBuffer, store: ReferenceStore, counted: Bool = false) throws {
        if !counted, !count(fileBytes: bytes.readableBytes), let error { throw error }
        if sink == nil { sink = UploadSink(store: store) }
        try sink!.write(bytes)
    }

    /// Adds to the file's size; false (and the error recorded) once it passes MAX_UPLOAD_SIZE.
    private func count(fileBytes added: Int) -> Bool {
        fileBytes += added
        guard fileBytes > limits.maxBytes else { return true }
        fail(GatewayError.invalid("file_too_large", "reference_audio is larger than MAX_UPLOAD_SIZE (\(limits.maxBytes) bytes)",
                                  details: ["max_bytes": .int(limits.maxBytes)]))
        return false
    }

    func takePendingFileBytes() -> ByteBuffer? {
        guard pendingFile.readableBytes > 0 else { return nil }
        defer { pendingFile = ByteBuffer() }
        return pendingFile
    }

    private func fail(_ e: GatewayError) { if error == nil { error = e } }

    /// `form-data; name="x"; filename="y"` → the quoted or bare value of one parameter.
    static func parameter(_ key: String, in header: String) -> String? {
        func trimmed(_ s: Substring) -> Substring {
            guard let first = s.firstIndex(where: { !$0.isWhitespace }), let last = s.lastIndex(where: { !$0.isWhitespace }) else { return "" }
            return s[first...last]
        }
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map(trimmed)
            guard pair.count == 2, pair[0].lowercased() == key else { continue }
            var v = pair[1]
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = v.dropFirst().dropLast() }
            return String(v)
        }
        return nil
    }
}
