import MultipartKit
import NIOCore

/// Reads a `multipart/form-data` synthesis body as it arrives: text fields into memory (bounded), the
/// `reference_audio` file straight to disk. Nothing is held whole; an oversized file is refused mid-stream.
struct SynthesisUploadReader {
    static let fileField = "reference_audio"
    static let maxFieldBytes = 64 * 1024
    static let knownFields: Set<String> = ["text", "language", "speed", "temperature", "prompt_text", "prompt_language", "seed", "stream"]

    let boundary: String
    let store: ReferenceStore
    let limits: ReferenceLimits

    /// The fields and the still-unchecked upload (nil when no file was sent). The caller owns the file.
    func read<Body: AsyncSequence>(_ body: Body) async throws -> (SynthesisFields, IncomingFile?) where Body.Element == ByteBuffer {
        let parser = MultipartParser(boundary: boundary)
        let state = PartState(limits: limits)
        parser.onHeader = { name, value in state.header(name: name, value: value) }
        parser.onBody = { chunk in state.body(&chunk) }
        parser.onPartComplete = { state.complete() }
        var tail: [UInt8] = []
        let closing = Array("--\(boundary)--".utf8)
        do {
            for try await chunk in body {
                do {
                    try parser.execute(chunk)
                } catch {
                    throw GatewayError.invalid("malformed_multipart", "the multipart body is malformed")
                }
                if let error = state.error { throw error }
                if let pending = state.takePendingFileBytes() {
                    if state.file == nil { state.file = try store.makeIncoming() }
                    try state.file!.write(pending)
                }
                tail = Array((tail + chunk.readableBytesView.suffix(closing.count + 4)).suffix(closing.count + 4))
            }
        } catch {
            state.file?.discard()
            throw error
        }
        guard tail.count >= closing.count, tail.indices.contains(where: { i in
            i + closing.count <= tail.count && Array(tail[i..<i + closing.count]) == closing
        }) else {
            state.file?.discard()
            throw GatewayError.invalid("malformed_multipart", "the multipart body ended before its closing boundary (upload cut short?)")
        }
        return (state.fields, state.file)
    }
}

/// Parser callbacks cannot throw: they record into this state, which the reader checks after every chunk.
private final class PartState {
    let limits: ReferenceLimits
    var fields = SynthesisFields()
    var file: IncomingFile?
    var error: GatewayError?
    private var name: String?
    private var isFile = false
    private var value: [UInt8] = []
    private var pendingFile = ByteBuffer()
    private var fileBytes = 0
    private var fileSeen = false

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
            fileBytes += chunk.readableBytes
            if fileBytes > limits.maxBytes {
                fail(GatewayError.invalid("file_too_large", "reference_audio is larger than MAX_UPLOAD_SIZE (\(limits.maxBytes) bytes)",
                                          details: ["max_bytes": .int(limits.maxBytes)]))
                return
            }
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

    func takePendingFileBytes() -> ByteBuffer? {
        guard pendingFile.readableBytes > 0 else { return nil }
        defer { pendingFile = ByteBuffer() }
        return pendingFile
    }

    private func fail(_ e: GatewayError) { if error == nil { error = e } }

    /// `form-data; name="x"; filename="y"` → the quoted or bare value of one parameter.
    static func parameter(_ key: String, in header: String) -> String? {
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == key else { continue }
            var v = pair[1]
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }
}
