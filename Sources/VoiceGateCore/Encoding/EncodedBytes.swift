import NIOCore

/// Where a C encoder's write callback puts its bytes, until the encoder hands them on. Passed to the library as
/// its user pointer, so it is a class of its own (not the encoder, which is not initialized yet at that point).
final class EncodedBytes {
    var buffer = ByteBuffer()

    func append(_ pointer: UnsafeRawPointer?, _ count: Int) {
        guard let pointer, count > 0 else { return }
        buffer.writeBytes(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Moves what was written to `output`.
    func drain(into output: inout ByteBuffer) {
        output.writeBuffer(&buffer)
        buffer.clear()
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> EncodedBytes {
        Unmanaged<EncodedBytes>.fromOpaque(pointer!).takeUnretainedValue()
    }
}
