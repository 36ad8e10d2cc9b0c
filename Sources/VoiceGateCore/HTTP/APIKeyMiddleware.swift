import Hummingbird

/// Requires `X-API-Key` on the routes it guards; compared in constant time, never logged.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let verifier: APIKeyVerifier

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard verifier.verify(request.headers[.xAPIKey]) else { throw GatewayError.unauthorized }
        return try await next(request, context)
    }
}
