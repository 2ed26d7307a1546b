import Dispatch
import HTTPServer
import HelmBundle
import Synchronization

/// Who made a request, once authenticated.
public struct Caller: Sendable, Equatable {
    public var user: String
    public var method: AuthMethod
    public var groups: [String]
}

/// How a ``Caller`` was authenticated. The raw values are what the audit log's `authMethod` field says (a request
/// nobody was authenticated for says `none` there: ``AuditEntry/authMethod`` is `nil`).
public enum AuthMethod: String, Sendable, CaseIterable {
    /// A bearer token from the static token file (`--token-file`).
    case token
    /// A client certificate the client CA signed (`--client-ca`).
    case mtls
    /// A bearer token the Kubernetes API vouched for (TokenReview and SubjectAccessReview, `--kube-auth`).
    case kubernetes
}

/// The service's routes: bundle files behind authentication, health, readiness, metrics and the API document.
///
/// | path | auth | answer |
/// |---|---|---|
/// | `/v1/bundles/NAME/{ca.pem,cert.pem,key.pem,bundle.tar.gz}` | yes | the file |
/// | `/v1/bundles/NAME` | yes | JSON metadata |
/// | `POST /v1/bundles/NAME/personal.tar.gz` | yes | a personal certificate and a fresh key ([PersonalCertificates]) |
/// | `POST /v1/bundles/NAME/certificates` | yes | a personal certificate for the CSR in the body |
/// | `GET /v1/bundles/NAME/certificates` | yes | the ledger of still-valid personal certificates |
/// | `/healthz`, `/readyz`, `/metrics`, `/openapi.yaml` | no | health, readiness, Prometheus metrics, this API's OpenAPI document |
///
/// Every `/v1` request is authenticated before anything else is looked at, so an anonymous caller learns
/// nothing about which bundles exist; every `/v1` request, allowed or refused, is audited, and one whose audit
/// line cannot be written is refused. Bundle paths take `GET` and `HEAD` (`HEAD` bodies are dropped by the
/// server); the issuing routes `POST` (and `GET` for the ledger); any other method is 405 with the path's `Allow`.
///
/// Issuing runs on the bounded ``IssuingQueue``, never on an event loop; its answer, like every `/v1` answer, is
/// released only once its audit line (which names the certificate, never the key) is written.
public struct HelmCertResponder: HTTPResponder {
    enum Route: Sendable {
        case bundle(BundleRepresentation)
        /// `…/certificates`: POST a CSR, GET the ledger.
        case certificates
        /// `…/personal.tar.gz`: POST.
        case personalArchive
        case health
        case readiness
        case metrics
        case openAPI

        var metricLabel: ServiceMetrics.Route {
            switch self {
            case .bundle(.metadata): .bundleMetadata
            case .bundle(.archive): .bundleArchive
            case .bundle: .bundleFile
            case .certificates: .bundleCertificates
            case .personalArchive: .bundlePersonalArchive
            case .health: .healthz
            case .readiness: .readyz
            case .metrics: .metrics
            case .openAPI: .openapi
            }
        }

        /// The methods the path takes, as its 405's `Allow` says them.
        var allowed: [HTTPMethod] {
            switch self {
            case .certificates: [.get, .head, .post]
            case .personalArchive: [.post]
            default: [.get, .head]
            }
        }
    }

    private let store: BundleStore
    private let authenticator: StaticTokenAuthenticator
    private let metrics: ServiceMetrics
    private let audit: AuditLog
    private let openConnections: @Sendable () -> Int
    private let reviewer: (any TokenReviewer)?
    private let fileProblems: @Sendable () -> [String]
    private let acceptsClientCertificates: @Sendable () -> Bool
    /// Whether `key.pem` and `bundle.tar.gz` are served (`--shared-key`, the default) or refused with 403.
    private let sharesKey: Bool
    /// Personal certificates (`--issuer-secret`, `--dev`); nil: the issuing routes answer 503 saying it is off.
    let personal: PersonalCertificates?
    /// Reviews for issuing (`create` on `bundles/certificates`) and for listing the ledger (`list` on it).
    private let issuingReviewer: (any TokenReviewer)?
    private let listingReviewer: (any TokenReviewer)?
    private let routes: [String: Route]
    /// The one path that takes a body (a CSR).
    private let certificatesPath: String
    private let openAPIResponse: HTTPResponse
    private let requestNumbers = RequestNumbers()

    /// Numbers `/v1` requests for their audit lines, from 1.
    private final class RequestNumbers: Sendable {
        private let last = Atomic<UInt64>(0)
        func next() -> UInt64 { last.add(1, ordering: .relaxed).newValue }
    }

    /// - Parameters:
    ///   - store: the bundle being served.
    ///   - authenticator: who may fetch it by bearer token.
    ///   - metrics: counted into, and printed at `/metrics`.
    ///   - audit: where every `/v1` request is recorded.
    ///   - openConnections: the server's open connection count, read when `/metrics` is scraped.
    ///   - reviewer: checks tokens the token file does not know with the Kubernetes API (`--kube-auth`), off
    ///     the event loops; nil refuses them.
    ///   - fileProblems: what is wrong with the watched files now (a token file that cannot be read), one line
    ///     each, told in `/readyz`.
    ///   - acceptsClientCertificates: false while the client CA or CRL files fail to load: a verified client
    ///     certificate then authenticates nobody, on connections made before the failure too (fail closed).
    ///   - sharesKey: false refuses `key.pem` and `bundle.tar.gz` with 403, pointing at `personal.tar.gz`
    ///     (`--no-shared-key`); `ca.pem`, `cert.pem` and the metadata stay.
    ///   - personal: issues personal certificates; nil: issuing is off.
    ///   - issuingReviewer: decides about Kubernetes tokens on the issuing routes (`create` on
    ///     `bundles/certificates`); nil refuses them there.
    ///   - listingReviewer: the same for the ledger (`list` on `bundles/certificates`).
    public init(
        store: BundleStore, authenticator: StaticTokenAuthenticator, metrics: ServiceMetrics, audit: AuditLog,
        openConnections: @escaping @Sendable () -> Int = { 0 }, reviewer: (any TokenReviewer)? = nil,
        fileProblems: @escaping @Sendable () -> [String] = { [] },
        acceptsClientCertificates: @escaping @Sendable () -> Bool = { true }, sharesKey: Bool = true,
        personal: PersonalCertificates? = nil, issuingReviewer: (any TokenReviewer)? = nil,
        listingReviewer: (any TokenReviewer)? = nil
    ) {
        self.sharesKey = sharesKey
        self.personal = personal
        self.issuingReviewer = issuingReviewer
        self.listingReviewer = listingReviewer
        self.acceptsClientCertificates = acceptsClientCertificates
        self.reviewer = reviewer
        self.fileProblems = fileProblems
        self.store = store
        self.authenticator = authenticator
        self.metrics = metrics
        self.audit = audit
        self.openConnections = openConnections
        var routes: [String: Route] = [
            "/healthz": .health, "/readyz": .readiness, "/metrics": .metrics, "/openapi.yaml": .openAPI,
        ]
        for representation in BundleRepresentation.allCases {
            let suffix = representation == .metadata ? "" : "/" + representation.rawValue
            routes["/v1/bundles/\(store.name)\(suffix)"] = .bundle(representation)
        }
        routes["/v1/bundles/\(store.name)/certificates"] = .certificates
        routes["/v1/bundles/\(store.name)/personal.tar.gz"] = .personalArchive
        certificatesPath = "/v1/bundles/\(store.name)/certificates"
        self.routes = routes
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/yaml")
        headers.add("Cache-Control", "public, max-age=300")
        openAPIResponse = HTTPResponse(status: 200, headers: headers, body: Array(openAPIDocument.utf8)).prepared()
    }

    /// Answers on the calling thread, waiting for the audit writer (for callers without a server, such as tests;
    /// the server always calls ``respond(to:promise:)``). Without a promise a Kubernetes review cannot wait:
    /// tokens that would need one are refused as unknown.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let answered = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        let answer = Answer(clientLeft: { false }) { response in
            answered.withLock { $0 = response }
            done.signal()
        }
        let now = respond(to: request, reviews: false, answer: answer)
        if let now { return now }
        done.wait()
        return answered.withLock { $0 }!
    }

    /// A CSR, up to 16 KiB, on `POST …/certificates`; no body anywhere else.
    public func maxBodyBytes(method: HTTPMethod, path: String) -> Int {
        method == .post && path == certificatesPath ? CertificateSigningRequest.maximumPEMSize : 0
    }

    /// Answers public paths at once; a `/v1` answer comes through `promise` once its audit line is written.
    public func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> HTTPResponse? {
        respond(
            to: request, reviews: true, turn: promise.turn,
            answer: Answer(clientLeft: { promise.isCancelled }, deliver: promise.succeed))
    }

    /// Where a `/v1` answer goes once its audit line is written, and whether its client is still there to get it.
    struct Answer: Sendable {
        /// True once the server no longer waits for the answer (the client left, or the answer came too late).
        let clientLeft: @Sendable () -> Bool
        let deliver: @Sendable (HTTPResponse) -> Void
    }

    /// A public path's response, or nil when `answer` will get the `/v1` response (from another thread).
    /// `turn`: the asking event loop's, when called on its thread; an answer decided now has its audit line
    /// written at the end of that turn (``AuditLog/record(_:atEndOf:then:)``).
    private func respond(to request: HTTPRequest, reviews: Bool, turn: EventLoopTurn? = nil, answer: Answer) -> HTTPResponse? {
        let isAPI = request.path == "/v1" || request.path.hasPrefix("/v1/")
        let route = routes[request.path]
        guard isAPI else {
            let response = answerPublic(request, route: route)
            metrics.countRequest(route: route?.metricLabel ?? .unknown, status: response.status)
            return response
        }
        let asked = AskedRequest(request)
        switch authenticate(request, route: route) {
        case .decided(let decision):
            finish(asked, route: route, decision: decision, turn: turn, answer: answer)
        case .needsReview(let token):
            guard let reviewer = reviewer(for: route, method: request.method), reviews else {
                finish(asked, route: route, decision: .unknownToken, turn: turn, answer: answer)
                return nil
            }
            if let cached = reviewer.cachedDecision(forToken: token) {
                finish(asked, route: route, decision: cached, turn: turn, answer: answer)
                return nil
            }
            // The review keeps `asked`, not the request: a waiting request holds a few short strings, not its
            // headers (up to the parser's limit each).
            reviewer.review(token: String(token), from: request.remoteAddress, hasLeft: answer.clientLeft) { decision in
                self.finish(asked, route: route, decision: decision, answer: answer)
            }
        }
        return nil
    }

    /// Which reviewer decides about a Kubernetes token for this route and method: each asks RBAC for its own
    /// permission and caches its own decisions, so a token allowed to `get` the bundle is not taken as allowed
    /// to issue.
    private func reviewer(for route: Route?, method: HTTPMethod) -> (any TokenReviewer)? {
        switch route {
        case .personalArchive: issuingReviewer
        case .certificates: method == .post ? issuingReviewer : listingReviewer
        default: reviewer
        }
    }

    /// What answering and auditing a `/v1` request need of it, kept while it waits for a review or the audit
    /// writer instead of the whole request.
    struct AskedRequest: Sendable {
        let method: HTTPMethod
        let path: String
        let query: String?
        let remoteAddress: String
        /// The `If-None-Match` header, for a 304.
        let ifNoneMatch: String?
        /// The `Content-Type` header, for a CSR.
        let contentType: String?
        /// The body: a CSR on `POST …/certificates` (at most 16 KiB), else empty.
        let body: [UInt8]

        init(_ request: HTTPRequest) {
            method = request.method
            path = request.path
            query = request.query
            remoteAddress = request.remoteAddress
            ifNoneMatch = request.headers["If-None-Match"]
            contentType = request.headers["Content-Type"]
            body = request.body
        }
    }

    /// The status audited (and counted) for a request whose client left before its answer could be sent:
    /// nginx's "client closed request". Its line says 0 bytes.
    static let clientClosedRequest = 499

    /// Answers an authenticated (or refused) `/v1` request: audits it, and once the line is written counts it
    /// and hands the response to `answer`. A line that cannot be written or queued turns it into a 503. When
    /// the client has left by the time the line is made (a review or the audit queue took a while), the line
    /// and the count say ``clientClosedRequest`` and 0 bytes: nothing was handed out.
    private func finish(
        _ request: AskedRequest, route: Route?, decision: TokenDecision, turn: EventLoopTurn? = nil, answer: Answer
    ) {
        var caller: Caller? = nil
        var etag: String? = nil
        let response: HTTPResponse
        switch decision {
        case .allowed(let who):
            caller = who
            if let issuing = issuingRequest(request, route: route, caller: who) {
                switch issuing {
                case .refused(let refusal):
                    response = refusal
                case .queued(let what, let personal, let ttl):
                    return issue(request, what: what, route: route!, caller: who, personal: personal, ttl: ttl, answer: answer)
                }
            } else if let refusal = ledgerRefusal(request, route: route, caller: who) {
                metrics.countAuthFailure(.forbidden)
                response = refusal
            } else {
                (response, etag) = answerAPI(request, route: route)
            }
        case .missing:
            metrics.countAuthFailure(.missing)
            response = Self.unauthorized(
                .noToken, "this path needs a token: send Authorization: Bearer <token> (ask the operator for one from the token file)",
                error: nil)
        case .malformed:
            metrics.countAuthFailure(.malformed)
            response = Self.unauthorized(
                .malformedAuthorization, "the Authorization header must use the Bearer scheme: Authorization: Bearer <token>",
                error: "invalid_request")
        case .duplicateAuthorization:
            metrics.countAuthFailure(.malformed)
            response = ProblemDetails(
                .malformedAuthorization, status: 400, title: "Bad Request",
                detail: "the request has more than one Authorization header; send exactly one: Authorization: Bearer <token>"
            ).response()
        case .unknownToken:
            metrics.countAuthFailure(.invalidToken)
            response = Self.unauthorized(.invalidToken, "the bearer token is not known to this server", error: "invalid_token")
        case .forbidden(let who, let detail):
            caller = who
            metrics.countAuthFailure(.forbidden)
            response = ProblemDetails(.forbidden, status: 403, title: "Forbidden", detail: detail).response()
        case .unavailable(let detail):
            metrics.countAuthFailure(.unavailable)
            response = ProblemDetails(.authenticationUnavailable, status: 503, title: "Service Unavailable", detail: detail)
                .response(headers: [("Retry-After", "5")])
        }
        release(request, route: route, caller: caller, response: response, etag: etag, turn: turn, answer: answer)
    }

    /// Audits a `/v1` answer and, once the line is written, counts it and hands it to `answer`; an issued
    /// certificate is then counted and listed in the ledger too. With `turn` (on its loop's thread) the line is
    /// written at the end of the turn, by the loop when it can; without, by the audit writer thread.
    func release(
        _ request: AskedRequest, route: Route?, caller: Caller?, response: HTTPResponse, etag: String?,
        issued: PersonalCertificates.Issued? = nil, turn: EventLoopTurn? = nil, answer: Answer
    ) {
        let representation: BundleRepresentation? = if case .bundle(let r) = route { r } else { nil }
        let clientLeft = answer.clientLeft()
        var entry = AuditEntry(
            user: caller?.user ?? "-", authMethod: caller?.method, groups: caller?.groups ?? [],
            method: request.method, path: request.path, bundle: route == nil ? nil : store.name,
            file: representation.map { $0 == .metadata ? "metadata" : $0.rawValue },
            status: clientLeft ? Self.clientClosedRequest : response.status, remoteAddress: request.remoteAddress,
            bytes: request.method == .head || clientLeft ? 0 : response.body.count,
            etag: !clientLeft && (response.status == 200 || response.status == 304) && representation?.holdsKey == false
                ? etag : nil)
        entry.request = requestNumbers.next()
        // Only a certificate that is handed out is named: one whose client left was signed for nobody.
        if !clientLeft { entry.certificate = issued?.audit }
        let routeLabel = route?.metricLabel ?? .unknown
        let (metrics, destination, audit, personal) = (self.metrics, audit.destination, self.audit, self.personal)
        let whenWritten: @Sendable (Bool) -> Void = { [entry] written in
            if !written { metrics.countAuditFailure(.writeFailed) }
            let released = written ? response : Self.auditRefusal(
                "the audit log (\(destination)) cannot be written, so nothing is handed out; the operator must fix the audit destination")
            // The client may have gone while the line waited for the writer (a stalled destination: it got 503
            // after the server's response timeout): the answer will be dropped, so a second line says so.
            let leftMeanwhile = written && !clientLeft && answer.clientLeft()
            if leftMeanwhile {
                var dropped = entry
                (dropped.status, dropped.bytes, dropped.etag, dropped.answerDropped) = (Self.clientClosedRequest, 0, nil, true)
                if !audit.record(dropped, then: { _ in }) { metrics.countAuditFailure(.queueFull) }
            }
            metrics.countRequest(
                route: routeLabel, status: clientLeft || leftMeanwhile ? Self.clientClosedRequest : released.status)
            if written, !clientLeft, let issued, let personal {
                metrics.countCertificateIssued(issued.audit.how)
                if let drop = personal.ledger.record(issued.entry) { metrics.countLedgerDrop(drop) }
            }
            answer.deliver(released)
        }
        let queued = if let turn { audit.record(entry, atEndOf: turn, then: whenWritten) } else { audit.record(entry, then: whenWritten) }
        if !queued {
            metrics.countAuditFailure(.queueFull)
            metrics.countRequest(route: routeLabel, status: 503)
            answer.deliver(Self.auditRefusal(
                "the audit log (\(destination)) is not keeping up (\(audit.queueCapacity) lines waiting), so nothing is handed out; retry shortly, and the operator must check the audit destination"))
        }
    }

    /// The 503 for a request whose audit line cannot be written.
    private static func auditRefusal(_ detail: String) -> HTTPResponse {
        ProblemDetails(.auditUnavailable, status: 503, title: "Service Unavailable", detail: detail)
            .response(headers: [("Retry-After", "5")])
    }

    /// Paths outside `/v1`: no authentication.
    private func answerPublic(_ request: HTTPRequest, route: Route?) -> HTTPResponse {
        guard let route else {
            return ProblemDetails(
                .notFound, status: 404, title: "Not Found",
                detail: "no such path; the API lives under /v1/bundles/\(store.name) (see /openapi.yaml)"
            ).response()
        }
        if let refusal = Self.refuseMethod(request.method, route: route) { return refusal }
        switch route {
        case .health:
            return Self.text(200, "ok\n")
        case .readiness:
            switch store.availability {
            case .serving(let rendered):
                var text = "ready: serving bundle \(rendered.name) (generation \(store.generation))\n"
                if let problem = store.sourceProblem { text += "source problem (serving the last good bundle): \(problem)\n" }
                if let tiller = rendered.tiller {
                    // Serving does not depend on Tiller: a failing check is said here, never a 503.
                    text += tiller.ok
                        ? "tiller: ok, \(tiller.address) answers version \(tiller.version ?? "unknown") with this bundle\n"
                        : "tiller: check failing (the bundle is still served): \(tiller.failure!)\n"
                }
                text += (personal?.issuer.readinessLine() ?? "issuing: off (no --issuer-secret)") + "\n"
                for warning in rendered.warnings { text += "warning: \(warning)\n" }
                for problem in fileProblems() { text += "file problem: \(problem)\n" }
                return Self.text(200, text)
            case .unavailable(let reason):
                let detail = ([reason.description] + fileProblems().map { "file problem: \($0)" }).joined(separator: "; ")
                return ProblemDetails(.bundleNotReady, status: 503, title: "Service Unavailable", detail: detail)
                    .response(headers: [("Retry-After", "5")])
            }
        case .metrics:
            var headers = HTTPHeaders()
            headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            headers.add("Cache-Control", "no-store")
            return HTTPResponse(
                status: 200, headers: headers, body: metrics.exposition(store: store, openConnections: openConnections()))
        case .openAPI:
            return openAPIResponse
        case .bundle, .certificates, .personalArchive:
            // Bundle routes all live under /v1.
            return ProblemDetails(.notFound, status: 404, title: "Not Found", detail: "no such path").response()
        }
    }

    /// Authenticated `/v1` paths: the answer and, for bundle answers, their ETag.
    private func answerAPI(_ request: AskedRequest, route: Route?) -> (HTTPResponse, String?) {
        if let route, let refusal = Self.refuseMethod(request.method, route: route) { return (refusal, nil) }
        if case .certificates = route {
            // GET or HEAD: the ledger.
            guard let personal else { return (Self.issuingOff(), nil) }
            do throws(ProblemDetails) {
                return (try personal.ledgerResponse(query: request.query), nil)
            } catch {
                return (error.response(), nil)
            }
        }
        guard case .bundle(let representation) = route else {
            return (
                ProblemDetails(
                    .notFound, status: 404, title: "Not Found",
                    detail: "no such bundle or file: try /v1/bundles/\(store.name)/bundle.tar.gz, /ca.pem, /cert.pem, /key.pem, /personal.tar.gz (POST), /certificates or /v1/bundles/\(store.name)"
                ).response(), nil
            )
        }
        if !sharesKey && representation.holdsKey {
            return (sharedKeyClosed(representation), nil)
        }
        switch store.availability {
        case .serving(let rendered):
            let response = rendered.response(for: representation, ifNoneMatch: request.ifNoneMatch)
            return (response, rendered.etag(for: representation))
        case .unavailable(let reason):
            return (
                ProblemDetails(.bundleNotReady, status: 503, title: "Service Unavailable", detail: "no valid bundle to serve: \(reason)")
                    .response(headers: [("Retry-After", "5")]), nil
            )
        }
    }

    /// The 403 for `key.pem` and `bundle.tar.gz` while the shared key is closed (`--no-shared-key`).
    private func sharedKeyClosed(_ representation: BundleRepresentation) -> HTTPResponse {
        ProblemDetails(
            .sharedKeyDisabled, status: 403, title: "Forbidden",
            detail: "this server no longer hands out the shared key (\(representation.rawValue)); get a personal certificate of your own instead: curl -X POST -H \"Authorization: Bearer $TOKEN\" -o personal.tar.gz https://<this server>/v1/bundles/\(store.name)/personal.tar.gz (ca.pem, cert.pem and /v1/bundles/\(store.name) still work)"
        ).response()
    }

    private static func refuseMethod(_ method: HTTPMethod, route: Route) -> HTTPResponse? {
        let allowed = route.allowed
        guard !allowed.contains(method) else { return nil }
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        return ProblemDetails(
            .methodNotAllowed, status: 405, title: "Method Not Allowed", detail: "\(method) is not supported here; use \(list)"
        ).response(headers: [("Allow", list)])
    }

    private enum Authentication {
        case decided(TokenDecision)
        /// A well-formed bearer token the token file does not know.
        case needsReview(Substring)
    }

    /// A verified client certificate, else a known bearer token, else (maybe) a Kubernetes review. A personal
    /// certificate (one carrying ``CertificateAuthority/personalCertificatePolicy``) is no identity here, on any
    /// route: with `--client-ca` set to the Helm CA, whoever may only issue would otherwise read `key.pem` and the
    /// ledger with it. Its request is anonymous: it needs a token. On the issuing routes a bearer token, when sent,
    /// wins over a client certificate: an mTLS caller is refused a personal certificate there, and a client that
    /// presents the shared certificate by habit (a Helm home in its curl config) and a token means the token.
    private func authenticate(_ request: HTTPRequest, route: Route?) -> Authentication {
        let issuing =
            switch route {
            case .personalArchive, .certificates: request.method == .post
            default: false
            }
        let tokenFirst = issuing && !request.headers.values("Authorization").isEmpty
        if !tokenFirst, let cn = request.clientCertificateSubjectCN, acceptsClientCertificates(),
            !request.clientCertificatePolicies.contains(CertificateAuthority.personalCertificatePolicy)
        {
            return .decided(.allowed(Caller(user: cn, method: .mtls, groups: [])))
        }
        let headers = request.headers.values("Authorization")
        guard headers.count <= 1 else { return .decided(.duplicateAuthorization) }
        guard let header = headers.first else { return .decided(.missing) }
        guard let token = Self.bearerToken(header) else { return .decided(.malformed) }
        guard let user = authenticator.user(forToken: token) else { return .needsReview(token) }
        return .decided(.allowed(Caller(user: user.name, method: .token, groups: user.groups)))
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or nil.
    static func bearerToken(_ header: String) -> Substring? {
        // Scanned as bytes, in place: this runs on every /v1 request.
        let utf8 = header.utf8
        let start: Int?
        if let found = utf8.withContiguousStorageIfAvailable({ tokenOffset($0) }) {
            start = found
        } else {
            start = Array(utf8).withUnsafeBufferPointer { tokenOffset($0) }
        }
        guard let start else { return nil }
        return header[utf8.index(utf8.startIndex, offsetBy: start)...]
    }

    /// Where the token starts in the bytes of `Bearer <token>`: after the scheme (ASCII case-insensitive) and
    /// any spaces; nil if the scheme differs, the token is empty or it contains a space.
    private static func tokenOffset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let scheme: StaticString = "bearer "
        let schemeLength = scheme.utf8CodeUnitCount
        guard bytes.count > schemeLength else { return nil }
        for i in 0..<schemeLength {
            let expected = scheme.utf8Start[i]
            guard bytes[i] | (expected == 0x20 ? 0 : 0x20) == expected else { return nil }
        }
        var start = schemeLength
        while start < bytes.count && bytes[start] == 0x20 { start += 1 }
        guard start < bytes.count else { return nil }
        for i in start..<bytes.count where bytes[i] == 0x20 { return nil }
        return start
    }

    private static func unauthorized(_ type: ProblemType, _ detail: String, error: String?) -> HTTPResponse {
        var challenge = "Bearer realm=\"helm-cert-server\""
        if let error { challenge += ", error=\"\(error)\"" }
        return ProblemDetails(type, status: 401, title: "Unauthorized", detail: detail)
            .response(headers: [("WWW-Authenticate", challenge)])
    }

    private static func text(_ status: Int, _ body: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain; charset=utf-8")
        headers.add("Cache-Control", "no-store")
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }
}
