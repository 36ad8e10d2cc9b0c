import MultipartKit
import NIOCore

/// A small `multipart/form-data` body (already read whole and bounded) as its fields' values, a file part's bytes
/// included; a field not in `allowed` is refused. Every byte MultipartKit is given has passed `MultipartGuard` first.
struct FormFields {
    private(set) var values: [String: [UInt8]] = [:]

    init(_ body: ByteBuffer, boundary: String, allowed: Set<String>) throws {
        var framing = MultipartGuard(boundary: boundary)
        let parser = MultipartParser(boundary: boundary)
        final class Collector {
            var name: String?
            var value: [UInt8] = []
            var values: [String: [UInt8]] = [:]
            var duplicate: String?
            var unknown: String?
        }
        let collector = Collector()
        parser.onHeader = { header, value in
            guard header.lowercased() == "content-disposition" else { return }
            let name = MultipartGuard.parameter("name", in: value)
            collector.name = name
            if let name, !allowed.contains(name) { collector.unknown = collector.unknown ?? name }
        }
        parser.onBody = { chunk in
            if collector.name.map(allowed.contains) == true { collector.value += chunk.readableBytesView }
        }
        parser.onPartComplete = {
            if let name = collector.name, allowed.contains(name) {
                if collector.values[name] != nil { collector.duplicate = name }
                collector.values[name] = collector.value
            }
            collector.name = nil
            collector.value = []
        }
        var rest = body
        while rest.readableBytes > 0 {
            let piece = rest.readSlice(length: min(rest.readableBytes, 4096))!
            do {
                try framing.check(piece)
                try parser.execute(piece)
            } catch let rejection as MultipartGuard.Rejection {
                throw GatewayError.invalid("malformed_multipart", "the multipart body is malformed: \(rejection.reason)")
            } catch {
                throw GatewayError.invalid("malformed_multipart", "the multipart body is malformed")
            }
            if let unknown = collector.unknown {
                throw GatewayError.invalid("unknown_field", "\(unknown.prefix(64)) is not a field here (known: \(allowed.sorted().joined(separator: ", ")))",
                                           param: String(unknown.prefix(64)))
            }
            if let duplicate = collector.duplicate {
                throw GatewayError.invalid("duplicate_field", "\(duplicate) was sent more than once", param: duplicate)
            }
        }
        values = collector.values
    }

    /// A field as text; a value that is not UTF-8 is a clear error.
    func string(_ name: String) throws -> String? {
        guard let bytes = values[name] else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw GatewayError.invalid("invalid_encoding", "field \(name) is not valid UTF-8", param: name)
        }
        return text
    }
}
