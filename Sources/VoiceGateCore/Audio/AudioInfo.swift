/// What the gateway knows about a reference recording after reading its container.
public struct AudioInfo: Sendable, Equatable {
    public var format: AudioFormat
    public var duration: Double
    public var sampleRate: Int
    public var channels: Int
}

/// Why a file could not be taken as audio.
public struct AudioInspectionError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
