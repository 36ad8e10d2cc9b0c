extension Array where Element == UInt8 {
    func u16le(_ i: Int) -> Int { Int(self[i]) | Int(self[i + 1]) << 8 }
    func u32le(_ i: Int) -> Int { u16le(i) | u16le(i + 2) << 16 }
    func u64le(_ i: Int) -> UInt64 { UInt64(u32le(i)) | UInt64(u32le(i + 4)) << 32 }
    func u32be(_ i: Int) -> Int { Int(self[i]) << 24 | Int(self[i + 1]) << 16 | Int(self[i + 2]) << 8 | Int(self[i + 3]) }
    func ascii(_ i: Int, _ n: Int) -> String? {
        guard i >= 0, i + n <= count else { return nil }
        return String(decoding: self[i..<i + n], as: UTF8.self)
    }
}
