// The upload reader fed arbitrary bodies with arbitrary boundaries, cut at arbitrary chunk sizes.
// Input: [chunking seed] [boundary length] [boundary bytes, mapped onto RFC 2046 characters] [body].
// Beyond "never traps": two chunkings of one body agree (the same fields and file bytes, or both a 400), and no
// partial upload file is ever left behind. The same body also goes through FormFields (a job's subtitle form),
// which reads it or refuses it with a 400.
import FuzzDriver
#if FUZZING
import Foundation
import NIOCore
@testable import VoiceGateCore

enum UploadTarget {
    static let store: ReferenceStore = {
        let store = ReferenceStore(directory: NSTemporaryDirectory() + "voicegate-fuzz-upload-\(getpid())")
        if let problem = store.prepare() { violated(problem) }
        return store
    }()
    /// A small MAX_UPLOAD_SIZE, so that inputs of a few KiB reach the "too large" path too.
    static let limits = ReferenceLimits(config: try! GatewayConfig.from(["MAX_UPLOAD_SIZE": "3000"]))
    static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?".utf8)

    /// What a parse came to: the fields and the file's bytes, or a client error.
    enum Summary: Equatable {
        case parsed(fields: [String?], file: [UInt8]?)
        case refused
    }

    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 2 else { return }
        let boundaryLength = Int(input[1]) % 70 + 1
        guard input.count >= 2 + boundaryLength else { return }
        let boundary = String(decoding: input[2..<2 + boundaryLength].map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
        let body = Array(input[(2 + boundaryLength)...])
        let whole = parse(body, boundary: boundary, chunkSizes: [max(1, body.count)])
        let seed = Int(input[0])
        let chunked = parse(body, boundary: boundary, chunkSizes: [1 + seed % 7, 1 + seed, 1 + seed * 13 % 1500, 1])
        if whole != chunked { violated("one chunking gave \(whole), another \(chunked)") }
        do {
            let form = try FormFields(ByteBuffer(bytes: body), boundary: boundary, allowed: ["text", "voice", "subtitles", "reference_audio"])
            if whole != .refused, let text = form.values["text"], case .parsed(let fields, _) = whole, fields[0].map({ Array($0.utf8) }) != text,
               String(validating: text, as: UTF8.self) != nil {
                violated("the job form read text \(text), the upload reader \(String(describing: fields[0]))")
            }
        } catch let error as GatewayError {
            if error.statusCode != 400 { violated("a form was answered \(error.statusCode) \(error.code)") }
        } catch {
            violated("FormFields threw an error that is not the gateway's: \(error)")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: store.incomingDirectory)) ?? []
        if left.contains(where: { $0.hasSuffix(".part") }) { violated("a partial upload file was left behind: \(left)") }
    }

    static func parse(_ body: [UInt8], boundary: String, chunkSizes: [Int]) -> Summary {
        let parser = UploadBodyParser(boundary: boundary, store: store, limits: limits)
        do {
            try parser.consume(body, inPiecesOf: chunkSizes)
            let (fields, outcome) = try parser.finish()
            var file: [UInt8]?
            if case .new(let incoming) = outcome { file = FileManager.default.contents(atPath: incoming.path).map { [UInt8]($0) } }
            outcome?.discard()
            return .parsed(fields: [fields.text, fields.language, fields.speed, fields.temperature, fields.promptText,
                                    fields.promptLanguage, fields.seed, fields.stream], file: file)
        } catch let error as GatewayError {
            parser.discard()
            if error.statusCode != 400 { violated("a body was answered \(error.statusCode) \(error.code): \(error.message)") }
            return .refused
        } catch {
            violated("an error that is not the gateway's: \(error)")
        }
    }
}

fuzz { data, count in
    UploadTarget.run(bytes(data, count))
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
