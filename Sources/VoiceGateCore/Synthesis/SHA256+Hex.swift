import Crypto

extension SHA256.Digest {
    /// Lowercase hex, by table: `String(format:)` or a `String` per byte cost more than the hashing of short text.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SHA256 {
    /// The hex SHA-256 of a string's UTF-8 bytes.
    static func hex(of text: String) -> String { hash(data: Array(text.utf8)).hex }
}
