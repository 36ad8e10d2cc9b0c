import HTTPTypes
import Hummingbird

/// A known path asked with a method it does not serve answers 405 with `Allow`, as FastAPI (the seed's
/// framework) does, rather than 404: the client learns that the path is right and the method wrong.
enum MethodNotAllowed {
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch]

    static func add(_ paths: [String], allow: HTTPRequest.Method, to router: some RouterMethods<GatewayRequestContext>) {
        for path in paths {
            for method in methods where method != allow {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw GatewayError(405, "method_not_allowed", "\(request.method.rawValue) \(request.uri.path) is not served; use \(allow.rawValue)",
                                       allow: allow.rawValue)
                }
            }
        }
    }
}
