#if canImport(Glibc)
import Glibc
#endif

/// One input from libFuzzer: the bytes to feed a parser. The target must never trap on any of them.
public typealias FuzzBody = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<CInt>,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                       _ body: FuzzBody) -> CInt

/// Hands control to libFuzzer's driver (SwiftPM renames an executable's `main`, so libFuzzer's own is never used).
public func fuzz(_ body: FuzzBody) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(runDriver(&argc, &argv, body))
}
#else
/// Built without `VOICEGATE_FUZZ=1` (the ordinary build): there is no libFuzzer to hand control to.
public func fuzz(_ body: FuzzBody) -> Never {
    writeError("this fuzz target was built without libFuzzer: run Fuzz/run.sh (it builds with VOICEGATE_FUZZ=1)\n")
    exit(2)
}
#endif

/// The input as a byte buffer (libFuzzer may pass a null pointer for an empty input).
public func bytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: count > 0 ? data : nil, count: count)
}

/// A broken invariant: abort, so libFuzzer saves the input that broke it.
public func violated(_ what: String) -> Never {
    writeError("fuzz invariant violated: \(what)\n")
    abort()
}

private func writeError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
