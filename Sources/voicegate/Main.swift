import Foundation
import NIOCore
import NIOPosix

@main
enum Main {
    /// Runs Swift concurrency on NIO's event loops (as Vapor's template does), so a request's tasks run on the
    /// threads that do its I/O instead of hopping to the global pool and back at every await. Measured with
    /// Benchmarks/run.py on 2 cores: 1-connection p50 1.31 -> 1.23 ms, and peak RSS under 32 concurrent
    /// 10 MiB uploads 62 -> 46 MiB (fewer threads, fewer malloc arenas). Blocking work stays short (writing an
    /// upload chunk, reading a header); the console's key loop runs on a thread of its own.
    static func main() async {
        MallocTuning.apply(environment: ProcessInfo.processInfo.environment)
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await VoiceGateCommand.main()
    }
}
