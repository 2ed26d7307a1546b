import HTTPServer

/// The service's routes: bundle files behind bearer tokens, health, readiness and the API document.
///
/// | path | auth | answer |
/// |---|---|---|
/// | `/v1/bundles/NAME/{ca.pem,cert.pem,key.pem,bundle.tar.gz}` | bearer | the file |
/// | `/v1/bundles/NAME` | bearer | JSON metadata |
/// | `/healthz`, `/readyz`, `/openapi.yaml` | none | health, readiness, this API's OpenAPI document |
///
/// Every `/v1` request is authenticated before anything else is looked at, so an anonymous caller learns
/// nothing about which bundles exist. Only `GET` and `HEAD` are served (`HEAD` bodies are dropped by the server).
public struct HelmCertResponder: HTTPResponder {
    private enum Route: Sendable {
        case bundle(BundleRepresentation)
        case health
        case readiness
        case openAPI
    }

    private let store: BundleStore
    private let authenticator: StaticTokenAuthenticator
    private let routes: [String: Route]
    private let openAPIResponse: HTTPResponse

    /// - Parameters:
    ///   - store: the bundle being served.
    ///   - authenticator: who may fetch it.
    public init(store: BundleStore, authenticator: StaticTokenAuthenticator) {
        self.store = store
        self.authenticator = authenticator
        var routes: [String: Route] = ["/healthz": .health, "/readyz": .readiness, "/openapi.yaml": .openAPI]
        for representation in BundleRepresentation.allCases {
            let suffix = representation == .metadata ? "" : "/" + representation.rawValue
            routes["/v1/bundles/\(store.name)\(suffix)"] = .bundle(representation)
        }
        self.routes = routes
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/yaml")
        headers.add("Cache-Control", "public, max-age=300")
        openAPIResponse = HTTPResponse(status: 200, headers: headers, body: Array(openAPIDocument.utf8))
    }

    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let isAPI = request.path == "/v1" || request.path.hasPrefix("/v1/")
        if isAPI, let refusal = authenticate(request) { return refusal }
        guard let route = routes[request.path] else {
            return ProblemDetails(
                status: 404, title: "Not Found",
                detail: isAPI
                    ? "no such bundle or file: try /v1/bundles/\(store.name)/bundle.tar.gz, /ca.pem, /cert.pem, /key.pem or /v1/bundles/\(store.name)"
                    : "no such path; the API lives under /v1/bundles/\(store.name) (see /openapi.yaml)"
            ).response()
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return ProblemDetails(
                status: 405, title: "Method Not Allowed",
                detail: "\(request.method) is not supported here; use GET or HEAD"
            ).response(headers: [("Allow", "GET, HEAD")])
        }
        switch route {
        case .health:
            return Self.text(200, "ok\n")
        case .readiness:
            switch store.availability {
            case .serving(let rendered):
                return Self.text(200, "ready: serving bundle \(rendered.name) (generation \(store.generation))\n")
            case .unavailable(let reason):
                return ProblemDetails(status: 503, title: "Service Unavailable", detail: reason)
                    .response(headers: [("Retry-After", "5")])
            }
        case .openAPI:
            return openAPIResponse
        case .bundle(let representation):
            switch store.availability {
            case .serving(let rendered):
                return rendered.response(for: representation, ifNoneMatch: request.headers["If-None-Match"])
            case .unavailable(let reason):
                return ProblemDetails(
                    status: 503, title: "Service Unavailable",
                    detail: "no valid bundle to serve yet: \(reason)"
                ).response(headers: [("Retry-After", "5")])
            }
        }
    }

    /// nil when the request carries a known bearer token, else the 401 to send.
    private func authenticate(_ request: HTTPRequest) -> HTTPResponse? {
        guard let header = request.headers["Authorization"] else {
            return Self.unauthorized(
                "this path needs a token: send Authorization: Bearer <token> (ask the operator for one from the token file)",
                error: nil)
        }
        guard let token = Self.bearerToken(header) else {
            return Self.unauthorized(
                "the Authorization header must use the Bearer scheme: Authorization: Bearer <token>",
                error: "invalid_request")
        }
        guard authenticator.user(forToken: token) != nil else {
            return Self.unauthorized("the bearer token is not known to this server", error: "invalid_token")
        }
        return nil
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or nil.
    static func bearerToken(_ header: String) -> Substring? {
        let utf8 = header.utf8
        guard utf8.count > 7 else { return nil }
        let scheme = header.prefix(6)
        guard scheme.lowercased() == "bearer", header.dropFirst(6).first == " " else { return nil }
        let token = header.dropFirst(7).drop { $0 == " " }
        guard !token.isEmpty, !token.contains(" ") else { return nil }
        return token
    }

    private static func unauthorized(_ detail: String, error: String?) -> HTTPResponse {
        var challenge = "Bearer realm=\"helm-cert-server\""
        if let error { challenge += ", error=\"\(error)\"" }
        return ProblemDetails(status: 401, title: "Unauthorized", detail: detail)
            .response(headers: [("WWW-Authenticate", challenge)])
    }

    private static func text(_ status: Int, _ body: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain; charset=utf-8")
        headers.add("Cache-Control", "no-store")
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }
}
