import HTTPTypes
import Hummingbird
import Synchronization

/// A known path asked with a method it does not serve answers 405 with `Allow`, as FastAPI (the seed's
/// framework) does, rather than 404: the client learns that the path is right and the method wrong. Any method,
/// TRACE and made-up ones included. Router middleware also wraps the router's not-found answer, so this sees
/// every request no route took, before any key check; the paths come from the router itself once it is built.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let routes: KnownRoutes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = routes.methods(forPath: request.uri.path) else { throw error }
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            throw GatewayError(405, "method_not_allowed", "\(request.method.rawValue) \(request.uri.path) is not served; use \(allow)",
                               allow: allow)
        }
    }
}

/// The router's paths and the methods each serves, filled in once every route has been added.
final class KnownRoutes: Sendable {
    private let routes = Mutex<[(path: RouterPath, methods: [HTTPRequest.Method])]>([])

    func record(_ descriptions: [Router<GatewayRequestContext>.RouteDescription]) {
        var byPath: [String: (path: RouterPath, methods: [HTTPRequest.Method])] = [:]
        for route in descriptions {
            byPath[route.path.description, default: (route.path, [])].methods.append(route.method)
            // The router answers HEAD wherever it answers GET (`autoGenerateHeadEndpoints`), without listing it.
            if route.method == .get { byPath[route.path.description]!.methods.append(.head) }
        }
        routes.withLock { $0 = Array(byPath.values) }
    }

    /// The methods served at a path, or nil when no route has it.
    func methods(forPath path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.withLock { routes in
            routes.first { Self.matches($0.path, segments) }?.methods.sorted { $0.rawValue < $1.rawValue }
        }
    }

    private static func matches(_ route: RouterPath, _ segments: [Substring]) -> Bool {
        var index = 0
        for element in route.components {
            if element == .recursiveWildcard { return true }
            guard index < segments.count, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}
