import Foundation
import Logging

/// The one place every finished request goes — HTTP and console alike: it feeds the request log (and so the
/// console's figures), the metrics, the log line and, for syntheses, the history.
public final class RequestRecorder: Sendable {
    public let log: RequestLog
    let metrics: GatewayMetrics
    let history: HistoryWriter
    let logger: Logger
    /// `GATEWAY_NAME`, for the history rows.
    let gatewayName: String?

    init(log: RequestLog, metrics: GatewayMetrics, history: HistoryWriter, gatewayName: String? = nil, logger: Logger) {
        self.gatewayName = gatewayName
        self.log = log
        self.metrics = metrics
        self.history = history
        self.logger = logger
    }

    public func requestStarted() { log.requestStarted() }

    /// `started` is when the request arrived; the latency is measured to now.
    public func finished(_ event: RequestEvent, started: ContinuousClock.Instant) {
        var event = event
        event.latency = (ContinuousClock.now - started).seconds
        log.record(event)
        metrics.record(event)
        if let facts = event.synthesis {
            var record = Self.historyRecord(event, facts)
            record.gateway = gatewayName
            history.append(record)
        }
        writeLine(event)
    }

    static func historyRecord(_ event: RequestEvent, _ facts: SynthesisFacts) -> HistoryRecord {
        var record = HistoryRecord(time: event.time, requestID: event.id, keyName: event.key ?? "-", client: event.client, engine: facts.engine,
                      language: facts.language, textLength: facts.textLength, textHash: facts.textHash, text: facts.text,
                      referenceHash: facts.referenceHash, status: event.status, errorCode: event.errorCode, queueWait: facts.queueWait,
                      timeToFirstByte: facts.timeToFirstByte, upstreamTime: facts.upstreamTime, audioSeconds: facts.audioSeconds,
                      bytesSent: event.bytes)
        record.model = facts.model
        record.voice = facts.voice
        record.format = facts.format
        record.worker = facts.worker
        return record
    }

    private func writeLine(_ event: RequestEvent) {
        var metadata: Logger.Metadata = ["request_id": "\(event.id)", "client": "\(event.client)"]
        if let key = event.key { metadata["key"] = "\(key)" }
        if let code = event.errorCode { metadata["error"] = "\(code)" }
        let line = "\(event.method) \(event.path) \(event.status) \(DecimalText.format(event.latency * 1000, places: 1))ms \(event.bytes)B"
        if event.errorCode != nil, event.status < 400 {
            logger.error("\(line) failed after headers: \(event.message ?? "")", metadata: metadata)
        } else if event.status >= 500 {
            logger.error("\(line) \(event.message ?? "")", metadata: metadata)
        } else if event.status >= 400 {
            logger.warning("\(line) \(event.message ?? "")", metadata: metadata)
        } else {
            logger.info("\(line)", metadata: metadata)
        }
    }
}
