#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's `RLIMIT_NOFILE`. libdispatch on Linux crashes the process on purpose when it cannot open
/// `/proc/<tid>/stat` (EMFILE), so every descriptor a client can take must come out of a budget that leaves a
/// reserve; the budget starts from the largest soft limit the process may have.
public struct DescriptorLimit: Sendable, Equatable {
    public var soft: Int
    public var hard: Int

    public init(soft: Int, hard: Int) {
        self.soft = soft
        self.hard = hard
    }

    public static func current() -> DescriptorLimit {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return DescriptorLimit(soft: 1024, hard: 1024) }
        return DescriptorLimit(soft: Self.int(limit.rlim_cur), hard: Self.int(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one, as Go's runtime and nginx's `worker_rlimit_nofile` do.
    /// Returns the limits before and after (equal when nothing could be raised).
    @discardableResult
    public static func raiseSoftToHard() -> (before: DescriptorLimit, after: DescriptorLimit) {
        let before = current()
        guard before.soft < before.hard else { return (before, before) }
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return (before, before) }
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Self.resource, &limit) != 0 {
            // macOS refuses RLIM_INFINITY for the soft limit; OPEN_MAX is the most it takes.
            limit.rlim_cur = rlim_t(min(Self.int(limit.rlim_max), 10240))
            _ = setrlimit(Self.resource, &limit)
        }
        return (before, current())
    }

    private static var resource: Int32 {
        #if canImport(Glibc)
        Int32(RLIMIT_NOFILE.rawValue)
        #else
        RLIMIT_NOFILE
        #endif
    }

    private static func int(_ value: rlim_t) -> Int {
        value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value)
    }
}
