import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A job's `callback_url`: one `POST` of the job's JSON when it ends, signed with HMAC-SHA256 under the key's
/// secret (the hex SHA-256 of the API key, which the client can compute and the gateway keeps anyway) in
/// `X-VoiceGate-Signature: sha256=HEX`, retried with backoff. Where it may go is the operator's (`JOB_CALLBACK_HOSTS`).
public struct JobCallbacks: Sendable {
    /// `JOB_CALLBACK_HOSTS`: nil lets callbacks reach any host but this machine's own addresses; a list, only
    /// those hosts (a loopback one included, when listed); empty, none at all.
    public let allowedHosts: [String]?
    let keys: KeyRing
    let render: @Sendable (JobRecord) async -> [UInt8]?
    let logger: Logger
    /// Waits before the retries: 1, 2, 4, 8 and 16 s.
    static let backoff: [Double] = [1, 2, 4, 8, 16]

    init(allowedHosts: [String]?, keys: KeyRing, logger: Logger, render: @escaping @Sendable (JobRecord) async -> [UInt8]?) {
        self.allowedHosts = allowedHosts
        self.keys = keys
        self.logger = logger
        self.render = render
    }

    /// Why `url` may not be a callback, or nil.
    public func refusal(_ url: String) -> String? {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "callback_url must be an http:// or https:// URL"
        }
        guard let host = parsed.host?.lowercased(), !host.isEmpty else { return "callback_url has no host" }
        if let allowedHosts {
            return allowedHosts.contains(host) ? nil : "callback_url's host \(host) is not one the operator allows (JOB_CALLBACK_HOSTS)"
        }
        if host == "localhost" || host.hasSuffix(".localhost") || Self.isOwnAddress(host) {
            return "callback_url may not point at this machine (the operator may allow a host with JOB_CALLBACK_HOSTS)"
        }
        return nil
    }

    /// Loopback, unspecified and link-local addresses, as text.
    static func isOwnAddress(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var v4 = in_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 {
            let first = UInt32(bigEndian: v4.s_addr) >> 24
            let second = (UInt32(bigEndian: v4.s_addr) >> 16) & 0xFF
            return first == 127 || first == 0 || (first == 169 && second == 254)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            let loopback = bytes.dropLast().allSatisfy { $0 == 0 } && (bytes.last == 1 || bytes.last == 0)
            let mapped = bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            return loopback || (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80) || (mapped && (bytes[12] == 127 || bytes[12] == 0))
        }
        return false
    }

    /// Whether any address `host` resolves to is this machine's own (checked again as it is sent).
    static func resolvesToOwnAddress(_ host: String) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return false }
        defer { freeaddrinfo(result) }
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0,
               isOwnAddress(String(cString: text)) {
                return true
            }
            cursor = entry.pointee.ai_next
        }
        return false
    }

    /// `HMAC-SHA256(secret, body)` in hex, `secret` being the key's hex SHA-256 as text.
    public static func signature(body: [UInt8], keyHash: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(keyHash.utf8)))
        return mac.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// Sends the job's callback in the background, if it has one.
    func send(for job: JobRecord) {
        guard let url = job.settings.callbackURL else { return }
        Task { await deliver(job, to: url) }
    }

    /// True once the receiver answered 2xx.
    @discardableResult
    func deliver(_ job: JobRecord, to url: String) async -> Bool {
        if let problem = refusal(url) {
            logger.warning("job \(job.id): callback not sent: \(problem)")
            return false
        }
        if allowedHosts == nil, let host = URL(string: url)?.host, Self.resolvesToOwnAddress(host) {
            logger.warning("job \(job.id): callback not sent: \(host) resolves to this machine")
            return false
        }
        guard let key = keys.key(named: job.key), let body = await render(job) else { return false }
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10))))
        defer { _ = client.shutdown() }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "VoiceGate/\(Gateway.version)")
        request.headers.add(name: "X-VoiceGate-Event", value: "job.\(job.status.rawValue)")
        request.headers.add(name: "X-VoiceGate-Signature", value: "sha256=" + Self.signature(body: body, keyHash: key.keyHash))
        request.body = .bytes(ByteBuffer(bytes: body))
        for (attempt, wait) in ([0] + Self.backoff).enumerated() {
            if wait > 0 { try? await Task.sleep(for: .seconds(wait)) }
            do {
                let response = try await client.execute(request, timeout: .seconds(15))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if (200..<300).contains(response.status.code) { return true }
                logger.info("job \(job.id): callback answered \(response.status.code) (attempt \(attempt + 1))")
            } catch {
                logger.info("job \(job.id): callback failed (attempt \(attempt + 1)): \(error)")
            }
        }
        logger.warning("job \(job.id): callback to \(URL(string: url)?.host ?? "?") given up after \(Self.backoff.count + 1) attempts")
        return false
    }
}
