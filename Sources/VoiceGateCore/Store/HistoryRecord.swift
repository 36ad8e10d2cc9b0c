import Foundation

/// One synthesis, over HTTP or from the console, as the history keeps it.
public struct HistoryRecord: Sendable, Equatable {
    /// Assigned by the store; 0 before it is written.
    public var id: Int64 = 0
    public var time: Date
    public var requestID: String
    public var keyName: String
    public var client: String
    public var engine: String
    public var language: String?
    public var textLength: Int
    /// SHA-256 of the text, hex.
    public var textHash: String?
    /// Only with `HISTORY_STORE_TEXT=true`.
    public var text: String?
    public var referenceHash: String?
    public var status: Int
    public var errorCode: String?
    public var queueWait: Double?
    public var timeToFirstByte: Double?
    public var upstreamTime: Double?
    public var audioSeconds: Double?
    public var bytesSent: Int
    /// OpenAI's `model`, as the client sent it.
    public var model: String?
    /// The saved voice used, when one was.
    public var voice: String?
    /// The audio format served (`wav` for the seed's route).
    public var format: String?
    /// The worker (upstream server) that ran it.
    public var worker: String?
    /// The gateway that served it (`GATEWAY_NAME`).
    public var gateway: String?

    public init(time: Date, requestID: String, keyName: String, client: String, engine: String, language: String?, textLength: Int,
                textHash: String?, text: String?, referenceHash: String?, status: Int, errorCode: String?, queueWait: Double?,
                timeToFirstByte: Double?, upstreamTime: Double?, audioSeconds: Double?, bytesSent: Int) {
        self.time = time
        self.requestID = requestID
        self.keyName = keyName
        self.client = client
        self.engine = engine
        self.language = language
        self.textLength = textLength
        self.textHash = textHash
        self.text = text
        self.referenceHash = referenceHash
        self.status = status
        self.errorCode = errorCode
        self.queueWait = queueWait
        self.timeToFirstByte = timeToFirstByte
        self.upstreamTime = upstreamTime
        self.audioSeconds = audioSeconds
        self.bytesSent = bytesSent
    }
}

/// A page of history, newest first; `nextCursor` continues after its last row.
public struct HistoryQuery: Sendable, Equatable {
    public var key: String?
    public var status: Int?
    /// Only what this worker served.
    public var worker: String?
    /// Only what this gateway served.
    public var gateway: String?
    public var since: Date?
    public var until: Date?
    public var limit: Int = 50
    /// Rows older than this id.
    public var before: Int64?

    public init(key: String? = nil, status: Int? = nil, worker: String? = nil, since: Date? = nil, until: Date? = nil,
                limit: Int = 50, before: Int64? = nil) {
        self.key = key
        self.status = status
        self.worker = worker
        self.since = since
        self.until = until
        self.limit = limit
        self.before = before
    }
}
