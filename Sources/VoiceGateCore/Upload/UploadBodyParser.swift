import MultipartKit
import NIOCore

/// The synchronous heart of `SynthesisUploadReader`, fed the body chunk by chunk (and so fuzzed without an
/// event loop). Every byte MultipartKit is given has passed `MultipartGuard` first.
final class UploadBodyParser {
    /// Bytes handed to the parser at once outside the file's body, so the fast path resumes soon after its headers.
    static let parserPiece = 1024

    private let parser: MultipartParser
    private var framing: MultipartGuard
    private let delimiter: DelimiterSearch
    private let parts: PartState
    private let store: ReferenceStore

    init(boundary: String, store: ReferenceStore, limits: ReferenceLimits) {
        parser = MultipartParser(boundary: boundary)
        framing = MultipartGuard(boundary: boundary)
        delimiter = DelimiterSearch(boundary: boundary)
        parts = PartState(limits: limits)
        self.store = store
        let parts = self.parts
        parser.onHeader = { name, value in parts.header(name: name, value: value) }
        parser.onBody = { chunk in parts.body(&chunk) }
        parser.onPartComplete = { parts.complete() }
    }

    func consume(_ chunk: ByteBuffer) throws {
        var chunk = chunk
        while chunk.readableBytes > 0 {
            if framing.isInBody, parts.isFile, parts.error == nil {
                // The parser would hand these bytes to the file one CR at a time (audio is full of them), staying in
                // the part's body: up to where a delimiter might begin, write them directly.
                let direct = delimiter.bodyLength(in: chunk)
                if direct > 0 {
                    try parts.writeFileBytes(chunk.readSlice(length: direct)!, store: store)
                    continue
                }
            }
            let piece = chunk.readSlice(length: min(chunk.readableBytes, Self.parserPiece))!
            do {
                try framing.check(piece)
            } catch let rejection as MultipartGuard.Rejection {
                throw GatewayError.invalid("malformed_multipart", "the multipart body is malformed: \(rejection.reason)")
            }
            do {
                try parser.execute(piece)
            } catch {
                throw GatewayError.invalid("malformed_multipart", "the multipart body is malformed")
            }
            if let error = parts.error { throw error }
            if let pending = parts.takePendingFileBytes() {
                try parts.writeFileBytes(pending, store: store, counted: true)
            }
        }
    }

    /// Consumes `bytes` cut into pieces of the given sizes, in turn: the tests' and fuzzer's way to vary the chunking.
    func consume(_ bytes: [UInt8], inPiecesOf sizes: [Int]) throws {
        var offset = 0, index = 0
        while offset < bytes.count {
            let n = min(max(1, sizes[index % sizes.count]), bytes.count - offset)
            try consume(ByteBuffer(bytes: bytes[offset..<offset + n]))
            offset += n
            index += 1
        }
    }

    /// The fields and the upload, once the whole body has been consumed. After a throw, call `discard()`.
    func finish() throws -> (SynthesisFields, UploadSink.Outcome?) {
        guard framing.isComplete else {
            throw GatewayError.invalid("malformed_multipart", "the multipart body ended before its closing boundary (upload cut short?)")
        }
        if parts.fileSeen, parts.sink == nil {
            throw GatewayError.invalid("missing_reference_audio", "reference_audio is empty (0 bytes)")
        }
        return (parts.fields, try parts.sink?.finish())
    }

    /// A voice's own fields, read by `finish()`'s caller when the form creates a voice.
    var voiceFields: [String: String] { parts.voiceFields }

    /// Deletes whatever part of the upload was written; for bodies that fail.
    func discard() {
        parts.sink?.discard()
    }
}

/// Parser callbacks cannot throw: they record into this state, which the reader checks after every piece.
private final class PartState {
    let limits: ReferenceLimits
    var fields = SynthesisFields()
    /// A voice's own fields (`name`, `description`, `shared`), when the form creates one.
    var voiceFields: [String: String] = [:]
    var sink: UploadSink?
    var error: GatewayError?
    private var name: String?
    /// The part being read is `reference_audio` (known once its headers are).
    private(set) var isFile = false
    private var value: [UInt8] = []
    private var pendingFile = ByteBuffer()
    private var fileBytes = 0
    private(set) var fileSeen = false

    init(limits: ReferenceLimits) { self.limits = limits }

    func header(name headerName: String, value headerValue: String) {
        guard headerName.lowercased() == "content-disposition" else { return }
        name = MultipartGuard.parameter("name", in: headerValue)
        isFile = name == SynthesisUploadReader.fileField
        if isFile {
            if fileSeen { fail(.invalid("duplicate_field", "reference_audio was sent more than once")) }
            fileSeen = true
        }
    }

    func body(_ chunk: inout ByteBuffer) {
        guard error == nil, let name else { return }
        if isFile {
            guard count(fileBytes: chunk.readableBytes) else { return }
            pendingFile.writeBuffer(&chunk)
        } else if SynthesisUploadReader.knownFields.contains(name) || SynthesisUploadReader.voiceFields.contains(name) {
            guard value.count + chunk.readableBytes <= SynthesisUploadReader.maxFieldBytes else {
                fail(.invalid("field_too_large", "field \(name) is larger than \(SynthesisUploadReader.maxFieldBytes) bytes"))
                return
            }
            value += chunk.readableBytesView
        }
    }

    func complete() {
        defer { name = nil; isFile = false; value = [] }
        guard error == nil, let name, !isFile, SynthesisUploadReader.knownFields.contains(name)
                || SynthesisUploadReader.voiceFields.contains(name) else { return }
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
        case "voice": fields.voice = text
        default: voiceFields[name] = text
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
}
