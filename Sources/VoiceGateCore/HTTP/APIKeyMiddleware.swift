import Hummingbird

/// Requires `X-API-Key` on the routes it guards and names the caller; never logs the key.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let keys: KeyRing

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = keys.authenticate(request.headers[.xAPIKey]) else { throw GatewayError.unauthorized }
        var context = context
        context.caller = key
        context.exchange.key = key
        return try await next(request, context)
    }
}
