import NIOCore

/// Stands in front of MultipartKit's `MultipartParser` (4.7.1), which must never be handed bytes it cannot take:
/// it indexes a 128-entry table with every byte of a part header name, so one byte of 0x80 or more in a name
/// kills the process, and it keeps header names and values of any length in memory. The guard follows the
/// parser's own states byte for byte over everything the parser will be given, and refuses first: header names
/// must be RFC 9110 tokens, a part's header block is bounded, and any byte the parser would call a syntax error
/// is refused here too. Because it knows exactly where the parser stands, it also tells the reader when the
/// parser is inside a part's body and when the closing delimiter has been seen.
struct MultipartGuard {
    static let maxHeaderBlock = 16 * 1024

    struct Rejection: Error, Equatable {
        let reason: String
    }

    private enum State: Equatable {
        /// Before the first delimiter; the parser skips anything up to `--boundary`.
        case preamble(matched: Int)
        /// Right after a delimiter: CR (when `expectingLF` is false), then LF.
        case delimiterEnd(expectingLF: Bool)
        case headerName(empty: Bool)
        case headerValue(empty: Bool)
        /// After a header line's CR, or the blank line's: the LF.
        case headerLineEnd(blankLine: Bool)
        case body
        /// Part-way into a possible delimiter (`matched` of its bytes, CRLF "--" boundary).
        case delimiter(matched: Int)
        /// `--boundary-`: the second hyphen of the closing delimiter.
        case closing
        case epilogue
    }

    private let delimiter: [UInt8]
    private var state = State.preamble(matched: 0)
    private var headerBytes = 0

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// The parser is in a part's body, not part-way into a delimiter: bytes up to the next CR are body bytes.
    var isInBody: Bool { state == .body }
    /// The closing delimiter (`--boundary--`) has been seen.
    var isComplete: Bool { state == .epilogue }

    /// Follows `bytes` as the parser will read them; throws at the first byte it must not be given.
    mutating func check(_ bytes: ByteBuffer) throws {
        try bytes.withUnsafeReadableBytes { raw in
            var i = 0
            while i < raw.count {
                if state == .body {
                    // The parser passes everything up to a CR to the part as it is.
                    guard let cr = raw[i...].firstIndex(of: .cr) else { return }
                    i = cr
                } else if state == .epilogue {
                    return
                }
                try step(raw[i])
                i += 1
            }
        }
    }

    private mutating func step(_ byte: UInt8) throws {
        switch state {
        case .preamble(let matched):
            // The parser's own matching, quirks included: a '-' at the start counts as CRLF '-'.
            let next: Int
            if matched == 0, byte == delimiter[2] { next = 3 }
            else if byte == delimiter[matched] { next = matched + 1 }
            else if matched > 0, byte == delimiter[0] { next = 1 }
            else { next = 0 }
            if next == delimiter.count { startHeaders(expectingLF: false) } else { state = .preamble(matched: next) }
        case .delimiterEnd(let expectingLF):
            try countHeaderByte()
            guard byte == (expectingLF ? .lf : .cr) else { throw Rejection(reason: "a delimiter is not followed by CRLF") }
            state = expectingLF ? .headerName(empty: true) : .delimiterEnd(expectingLF: true)
        case .headerName(let empty):
            try countHeaderByte()
            if byte == .colon, !empty { state = .headerValue(empty: true) }
            else if byte == .cr, empty { state = .headerLineEnd(blankLine: true) }
            else if byte.isTokenCharacter { state = .headerName(empty: false) }
            else { throw Rejection(reason: "a part header name holds byte 0x\(String(byte, radix: 16)), which is not allowed in a header name") }
        case .headerValue(let empty):
            try countHeaderByte()
            if byte == .cr { state = .headerLineEnd(blankLine: false) }
            else if empty, byte == .space || byte == .tab { break }
            else { state = .headerValue(empty: false) }
        case .headerLineEnd(let blankLine):
            try countHeaderByte()
            guard byte == .lf else { throw Rejection(reason: "a part header line ends in CR without LF") }
            state = blankLine ? .body : .headerName(empty: true)
        case .body:
            // Only a CR gets here: it may begin a delimiter.
            state = .delimiter(matched: 1)
        case .delimiter(let matched):
            if matched == delimiter.count {
                if byte == .cr { startHeaders(expectingLF: true) }
                else if byte == .hyphen { state = .closing }
                else { throw Rejection(reason: "a delimiter is followed by neither CRLF nor --") }
            } else if byte == delimiter[matched] {
                state = .delimiter(matched: matched + 1)
            } else {
                state = byte == .cr ? .delimiter(matched: 1) : .body
            }
        case .closing:
            guard byte == .hyphen else { throw Rejection(reason: "the closing delimiter is not --boundary--") }
            state = .epilogue
        case .epilogue:
            break
        }
    }

    private mutating func startHeaders(expectingLF: Bool) {
        headerBytes = 0
        state = .delimiterEnd(expectingLF: expectingLF)
    }

    private mutating func countHeaderByte() throws {
        headerBytes += 1
        guard headerBytes <= Self.maxHeaderBlock else {
            throw Rejection(reason: "a part's headers are longer than \(Self.maxHeaderBlock) bytes")
        }
    }
}

extension UInt8 {
    fileprivate static let cr: UInt8 = 13
    fileprivate static let lf: UInt8 = 10
    fileprivate static let colon: UInt8 = 58
    fileprivate static let hyphen: UInt8 = 45
    fileprivate static let space: UInt8 = 32
    fileprivate static let tab: UInt8 = 9

    /// RFC 9110 `tchar`: the only bytes a header field name may hold.
    fileprivate var isTokenCharacter: Bool {
        switch self {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

extension MultipartGuard {
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
