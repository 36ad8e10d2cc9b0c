import NIOCore
import NIOPosix

/// A timer that costs nothing once cancelled. `Task.sleep` cannot serve as a per-request timeout on Linux: a
/// cancelled sleep keeps its task and dispatch timer until the deadline would have passed, so a timeout of 120 s
/// at 2,000 requests a second held 240,000 of them (about 100 MiB, growing with the rate). A task on NIO's timer
/// heap is removed the moment it is cancelled.
enum Deadline {
    static func after(_ seconds: Double, _ action: @escaping @Sendable () -> Void) -> Scheduled<Void> {
        MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9)), action)
    }
}
