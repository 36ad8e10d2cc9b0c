import HTTPTypes
import Hummingbird

/// CORS for the configured origins. Hummingbird's `CORSMiddleware` takes a list of origins only as a
/// variadic literal, so a list read from `CORS_ORIGINS` at run time needs this small equivalent.
struct CORSPolicyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let origins: Set<String>
    static let allowHeaders = "Content-Type, X-API-Key, X-Request-ID"
    static let exposeHeaders = "X-Request-ID, X-Audio-Duration, X-Sample-Rate, X-Engine, Server-Timing, Content-Disposition, Retry-After"
    static let allowMethods = "GET, POST, OPTIONS"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = origins.contains("*") ? "*" : (origins.contains(origin) ? origin : nil)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var headers = HTTPFields()
            headers[.vary] = "Origin"
            if let allowed {
                headers[.accessControlAllowOrigin] = allowed
                headers[.accessControlAllowHeaders] = Self.allowHeaders
                headers[.accessControlAllowMethods] = Self.allowMethods
                headers[.accessControlMaxAge] = "600"
            }
            return Response(status: .noContent, headers: headers)
        }
        // Added outside RequestEventMiddleware, so failures arrive here already rendered as responses.
        var response = try await next(request, context)
        response.headers[.vary] = "Origin"
        if let allowed {
            response.headers[.accessControlAllowOrigin] = allowed
            response.headers[.accessControlExposeHeaders] = Self.exposeHeaders
        }
        return response
    }
}
