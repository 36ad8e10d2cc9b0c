import Foundation
import Hummingbird

/// Requires a key on the routes it guards — `X-API-Key: KEY` or `Authorization: Bearer KEY`, the same keys either
/// way — and names the caller; never logs the key. When not `required` (the public voice list), a request without
/// either header passes with no caller, but a wrong key is still refused.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let keys: KeyLookup
    var required = true

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let presented = Self.presentedKey(request)
        if presented == nil, !required { return try await next(request, context) }
        guard let key = await keys.authenticate(presented) else { throw GatewayError.unauthorized }
        var context = context
        context.caller = key
        context.exchange.key = key
        return try await next(request, context)
    }

    /// `X-API-Key` first; then the bearer token. An `Authorization: Bearer ` with nothing after it is a key that is
    /// empty (SillyTavern without a key), so it is refused rather than taken as no key.
    static func presentedKey(_ request: Request) -> String? {
        if let key = request.headers[.xAPIKey] { return key }
        guard let authorization = request.headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.first?.lowercased() == "bearer" else { return "" }
        return parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
    }
}
