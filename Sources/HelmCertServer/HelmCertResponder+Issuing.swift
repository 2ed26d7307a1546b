import HTTPServer
import HelmBundle

/// The issuing routes: `POST …/personal.tar.gz` and `POST …/certificates`. What can be refused at once (issuing
/// off, an mTLS caller, a bad `?ttl=`, a CSR of the wrong media type) is refused on the event loop; the rest
/// (key generation, CSR checks, signing) runs on the bounded ``IssuingQueue``.
extension HelmCertResponder {
    /// What an allowed request to an issuing route becomes.
    enum IssuingStart {
        case refused(HTTPResponse)
        case queued(PersonalCertificates.Request, PersonalCertificates, ttl: Duration)
    }

    /// nil unless `request` asks for a personal certificate; else its refusal, or what to queue.
    func issuingRequest(_ request: AskedRequest, route: Route?, caller: Caller) -> IssuingStart? {
        let csr: Bool
        switch route {
        case .personalArchive where request.method == .post: csr = false
        case .certificates where request.method == .post: csr = true
        default: return nil
        }
        guard let personal else { return .refused(Self.issuingOff()) }
        guard caller.method != .mtls else {
            // With --client-ca set to the Helm CA, a personal certificate would authenticate its holder here and
            // could be renewed forever: its short life would mean nothing.
            return .refused(ProblemDetails(
                .personalCertificateForbidden, status: 403, title: "Forbidden",
                detail: "a caller authenticated by a client certificate cannot get a personal certificate (it could renew itself forever); authenticate with a bearer token instead"
            ).response())
        }
        let ttl: Duration
        do {
            ttl = try personal.lifetime.ttl(query: request.query)
        } catch {
            return .refused(ProblemDetails(.invalidTTL, status: 400, title: "Bad Request", detail: error.description).response())
        }
        guard csr else { return .queued(.generatedKey, personal, ttl: ttl) }
        guard Self.isPKCS10(request.contentType) else {
            return .refused(ProblemDetails(
                .unsupportedMediaType, status: 415, title: "Unsupported Media Type",
                detail: "send the certificate signing request as PEM with Content-Type: application/pkcs10 (curl --data-binary @req.csr -H 'Content-Type: application/pkcs10')"
            ).response(headers: [("Accept-Post", "application/pkcs10")]))
        }
        return .queued(.signingRequest(request.body), personal, ttl: ttl)
    }

    /// Queues the signing; its answer is released (audited, then delivered) from the queue's thread. A full
    /// queue is a 503 with `Retry-After` at once.
    func issue(
        _ request: AskedRequest, what: PersonalCertificates.Request, route: Route, caller: Caller,
        personal: PersonalCertificates, ttl: Duration, answer: Answer
    ) {
        do throws(IssuingQueue.Refusal) {
            try personal.queue.submit(from: request.remoteAddress, user: caller.user, hasLeft: answer.clientLeft) { clientLeft in
                guard !clientLeft else {
                    // Nothing is signed for nobody; the line says 499 (release sees the client gone).
                    return release(
                        request, route: route, caller: caller, response: HTTPResponse(status: 503), etag: nil, answer: answer)
                }
                do throws(ProblemDetails) {
                    let issued = try personal.issue(what, for: caller.user, ttl: ttl)
                    release(request, route: route, caller: caller, response: issued.response, etag: nil, issued: issued, answer: answer)
                } catch {
                    let headers = error.status == 503 ? [("Retry-After", "5")] : []
                    release(request, route: route, caller: caller, response: error.response(headers: headers), etag: nil, answer: answer)
                }
            }
        } catch {
            release(
                request, route: route, caller: caller,
                response: ProblemDetails(.issuingBusy, status: 503, title: "Service Unavailable", detail: error.description)
                    .response(headers: [("Retry-After", "1")]),
                etag: nil, answer: answer)
        }
    }

    /// The group a static-token user (`--token-file`) needs to read the ledger (`GET …/certificates`): the list
    /// names every holder and is for operators, not for everyone who may fetch the bundle.
    public static let ledgerReadersGroup = "helm-cert-server:ledger-readers"

    /// The 403 for a ledger read by a caller not allowed it, else nil (not the ledger, or allowed). Kubernetes
    /// tokens were already reviewed for `list` on `bundles/certificates`; static-token users need
    /// ``ledgerReadersGroup``; a client certificate (mTLS) never reads it (a certificate carries no groups).
    func ledgerRefusal(_ request: AskedRequest, route: Route?, caller: Caller) -> HTTPResponse? {
        guard case .certificates = route, request.method == .get || request.method == .head else { return nil }
        let detail: String
        switch caller.method {
        case .kubernetes: return nil
        case .token:
            guard !caller.groups.contains(Self.ledgerReadersGroup) else { return nil }
            detail = "the list of personal certificates is for operators: the token file must give \(caller.user) the group \(Self.ledgerReadersGroup)"
        case .mtls:
            detail = "the list of personal certificates is for operators: a client certificate cannot read it; use a bearer token whose user has the group \(Self.ledgerReadersGroup) (or, with --kube-auth, RBAC list on bundles/certificates)"
        }
        return ProblemDetails(.forbidden, status: 403, title: "Forbidden", detail: detail).response()
    }

    /// Whether a `Content-Type` is `application/pkcs10` (parameters allowed, case-insensitive).
    static func isPKCS10(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = (contentType.split(separator: ";", maxSplits: 1).first ?? "").filter { $0 != " " && $0 != "\t" }
        return type.lowercased() == "application/pkcs10"
    }

    /// The 503 of the issuing routes on a server without `--issuer-secret`.
    static func issuingOff() -> HTTPResponse {
        ProblemDetails(
            .issuingUnavailable, status: 503, title: "Service Unavailable",
            detail: "this server does not issue personal certificates: the operator must start it with --issuer-secret NAMESPACE/NAME (the chart: issuer.secret)"
        ).response(headers: [("Retry-After", "300")])
    }
}
