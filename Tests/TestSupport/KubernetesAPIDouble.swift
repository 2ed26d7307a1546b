// Test support only (Foundation is fine here): starts and drives Tests/KubernetesAPIDouble/kube_api_double.py.
import Foundation

/// A running kube-apiserver double (`Tests/KubernetesAPIDouble/kube_api_double.py`) on 127.0.0.1 over real TLS.
///
/// `start` makes a CA and a server certificate (`localhost`, `127.0.0.1`) with ``TestPKI`` in a temporary
/// directory, writes the token file and starts `python3`; the control methods talk to the double's `/__double/…`
/// endpoints with the `curl` CLI. `stop()` (or deinit) ends the process and removes the files.
///
/// ```swift
/// let api = try KubernetesAPIDouble.start(secrets: [.init(namespace: "kyma-installer", name: "helm-secret",
///                                                        data: ["ca.crt": Array("…".utf8)])])
/// defer { api.stop() }
/// // point the client at api.url with api.tokenFile and api.caFile
/// ```
public final class KubernetesAPIDouble: @unchecked Sendable {
    /// A secret to create: values are raw bytes (the double stores them base64, as the API does).
    public struct SecretSpec: Sendable {
        public var namespace: String
        public var name: String
        public var data: [String: [UInt8]]
        public var type: String
        public init(namespace: String, name: String, data: [String: [UInt8]], type: String = "Opaque") {
            self.namespace = namespace
            self.name = name
            self.data = data
            self.type = type
        }
    }

    /// One API request the double served (control requests are not logged).
    public struct LoggedRequest: Sendable, Decodable, Equatable {
        /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
        public var verb: String
        public var path: String
        public var query: String
        /// The HTTP status answered; nil for a request that got none (hang) or is still streaming.
        public var code: Int?
        /// The request body as received, for POSTs under `/apis` (TokenReview, SubjectAccessReview); else nil.
        public var body: String?

        /// The body parsed as a JSON object (nil when there is none or it is not one).
        public var jsonBody: [String: Any]? {
            body.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        /// The `spec.audiences` a TokenReview asked for (nil when it asked for none, or is no TokenReview).
        public var reviewAudiences: [String]? {
            (jsonBody?["spec"] as? [String: Any])?["audiences"] as? [String]
        }
    }

    /// What went wrong starting or driving the double.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `https://127.0.0.1:PORT`.
    public let url: String
    /// The port it listens on.
    public let port: Int
    /// The bearer-token file it checks requests against (and the client should read). See `rotateToken`.
    public let tokenFile: String
    /// PEM CA that signed the double's server certificate.
    public let caFile: String
    /// Where its files are (certificates, token, kubeconfig, stderr log).
    public let directory: TemporaryDirectory
    private let process: Process
    private let stdin: Pipe
    private let lock = NSLock()
    private var stopped = false

    private init(url: String, port: Int, tokenFile: String, caFile: String, directory: TemporaryDirectory, process: Process,
                 stdin: Pipe) {
        self.stdin = stdin
        self.url = url
        self.port = port
        self.tokenFile = tokenFile
        self.caFile = caFile
        self.directory = directory
        self.process = process
    }

    deinit { stop() }

    /// Starts a double holding `secrets`, accepting `token`, answering 403 for `denied` (namespace, name) pairs.
    public static func start(
        secrets: [SecretSpec] = [], token: String = "test-token-1", denied: [(namespace: String, name: String)] = []
    ) throws -> KubernetesAPIDouble {
        let directory = try TemporaryDirectory("kube-api-double")
        do {
            let pki = TestPKI(in: directory)
            let server = try pki.issue(
                "server", commonName: "kube-api-double", ca: try pki.makeCA("ca", commonName: "kube-api-double CA"))
            try directory.write("token", token)
            let seeds: [[String: Any]] = secrets.map {
                ["namespace": $0.namespace, "name": $0.name, "type": $0.type,
                 "data": $0.data.mapValues { Data($0).base64EncodedString() }]
            }
            try directory.write("secrets.json", [UInt8](try JSONSerialization.data(withJSONObject: seeds)))

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            var arguments = ["python3", "\(packageRoot)/Tests/KubernetesAPIDouble/kube_api_double.py",
                             "--cert", server.certificate, "--key", server.key,
                             "--token-file", directory.file("token"), "--port", "0",
                             "--secrets", directory.file("secrets.json"), "--exit-with-stdin"]
            for entry in denied { arguments += ["--deny", "\(entry.namespace)/\(entry.name)"] }
            process.arguments = arguments
            let stdout = Pipe(), stdin = Pipe()
            process.standardOutput = stdout
            process.standardInput = stdin   // held open by this handle; the double exits when it closes
            _ = FileManager.default.createFile(atPath: directory.file("stderr.log"), contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("stderr.log")))
            try process.run()

            // The double prints "LISTENING <port>" once it accepts connections.
            var line = [UInt8]()
            let reader = stdout.fileHandleForReading
            while true {
                let byte = try reader.read(upToCount: 1) ?? Data()
                if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
                line.append(contentsOf: byte)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("LISTENING "), let port = Int(text.dropFirst("LISTENING ".count)) else {
                process.terminate()
                let log = (try? directory.read("stderr.log")).map { String(decoding: $0, as: UTF8.self) } ?? ""
                throw Failure(description: "kube_api_double.py did not start (printed \(text.debugDescription)): \(log)")
            }
            return KubernetesAPIDouble(url: "https://127.0.0.1:\(port)", port: port, tokenFile: directory.file("token"),
                                       caFile: directory.file("ca.pem"), directory: directory, process: process,
                                       stdin: stdin)
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Ends the double and removes its files. Safe to call twice.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            // SIGKILL: the double keeps nothing worth saving, and a SIGTERM may be blocked in a child spawned
            // from a thread that blocks signals.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? stdin.fileHandleForWriting.close()
        directory.remove()
    }

    /// What the double wrote to stderr (Python tracebacks if it has a bug).
    public func errorLog() -> String {
        (try? directory.read("stderr.log")).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    // MARK: Tokens and kubeconfig

    /// Rewrites the token file: from now on only `token` is accepted.
    public func rotateToken(to token: String) throws {
        try directory.write("token", token)
    }

    /// Writes a kubeconfig for the real `kubectl` (cluster CA, token file) and returns its path.
    public func writeKubeconfig(namespace: String = "default") throws -> String {
        let config = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: double
              cluster:
                server: \(url)
                certificate-authority: \(caFile)
            users:
            - name: test
              user:
                tokenFile: \(tokenFile)
            contexts:
            - name: double
              context:
                cluster: double
                user: test
                namespace: \(namespace)
            current-context: double

            """
        try directory.write("kubeconfig", config)
        return directory.file("kubeconfig")
    }

    // MARK: Secrets

    /// Creates or updates a secret (watchers see ADDED or MODIFIED).
    public func setSecret(namespace: String, name: String, data: [String: [UInt8]], type: String = "Opaque") throws {
        let body: [String: Any] = ["type": type, "data": data.mapValues { Data($0).base64EncodedString() }]
        _ = try control("POST", "secrets/\(namespace)/\(name)", body: body)
    }

    /// Deletes a secret (watchers see DELETED). Deleting an absent secret is not an error.
    public func deleteSecret(namespace: String, name: String) throws {
        _ = try control("DELETE", "secrets/\(namespace)/\(name)", acceptNotFound: true)
    }

    /// From now on, requests for this secret (and LISTs selecting it) answer 403 Forbidden.
    public func deny(namespace: String, name: String) throws {
        _ = try control("POST", "deny", body: ["namespace": namespace, "name": name])
    }

    // MARK: TokenReview and SubjectAccessReview

    /// The API server's own audience: what a pod's default service-account token is minted for.
    public static let apiServerAudience = "https://kubernetes.default.svc.cluster.local"

    /// From now on a TokenReview of `token` answers authenticated, with this user, when it asks for one of
    /// `audiences` (the token's `aud`; nil: the API server's own), or asks for none and the token is the API
    /// server's. Unknown tokens, and tokens reviewed for other audiences, are not authenticated.
    public func addReviewToken(_ token: String, username: String, uid: String? = nil, groups: [String] = [],
                               audiences: [String]? = nil) throws {
        var body: [String: Any] = ["token": token, "username": username, "groups": groups]
        if let uid { body["uid"] = uid }
        if let audiences { body["audiences"] = audiences }
        _ = try control("POST", "review-tokens", body: body)
    }

    /// From now on a SubjectAccessReview for `user` (or for anyone in `group`; give exactly one) allows `verb` on
    /// `resource` of `apiGroup`, named `name` (nil: any name) in `namespace` (nil: every namespace). `"*"` matches
    /// any verb, API group or resource; a subresource is granted as RBAC names it, `bundles/certificates` (`"*"`
    /// does not cover it, `"*/*"` does). Everything not granted answers `allowed: false`.
    public func grant(user: String? = nil, group: String? = nil, verb: String, apiGroup: String, resource: String,
                      name: String? = nil, namespace: String? = nil) throws {
        var body: [String: Any] = ["verb": verb, "apiGroup": apiGroup, "resource": resource]
        if let user { body["user"] = user }
        if let group { body["group"] = group }
        if let name { body["name"] = name }
        if let namespace { body["namespace"] = namespace }
        _ = try control("POST", "grants", body: body)
    }

    /// Whether the service account (the token file's) may create TokenReviews and SubjectAccessReviews: with
    /// `true` both answer 403 Forbidden with the RBAC message, as without the `system:auth-delegator` binding.
    public func denyReviews(_ deny: Bool) throws {
        _ = try control("POST", "deny-reviews", body: ["deny": deny])
    }

    // MARK: Faults

    /// The next `count` API requests are answered with a Status of `code` (e.g. 503), or with no body at all.
    public func injectStatus(_ code: Int, count: Int, emptyBody: Bool = false) throws {
        _ = try control("POST", "fault/status", body: ["code": code, "count": count, "emptyBody": emptyBody])
    }

    /// API requests in the next `seconds` are answered with a Status of `code`.
    public func injectStatus(_ code: Int, forSeconds seconds: Double) throws {
        _ = try control("POST", "fault/status", body: ["code": code, "seconds": seconds])
    }

    /// API requests arriving in the next `seconds` are read and never answered (the connection closes after
    /// `seconds`).
    public func injectHang(seconds: Double) throws {
        _ = try control("POST", "fault/hang", body: ["seconds": seconds])
    }

    /// The next `count` API requests are read and never answered; each connection closes after `seconds`.
    public func injectHang(count: Int, seconds: Double) throws {
        _ = try control("POST", "fault/hang", body: ["count": count, "seconds": seconds])
    }

    /// Ends every open watch mid-event (half a line, then the connection dies). Returns how many were cut.
    @discardableResult
    public func cutWatches() throws -> Int {
        try control("POST", "cut-watch")["cut"] as? Int ?? 0
    }

    /// Sends an in-stream ERROR 410 Expired to open watches (and ends them) and makes every resourceVersion up
    /// to now too old: a later watch from one of them gets the 410 event.
    public func expireWatches() throws {
        _ = try control("POST", "expire")
    }

    /// Sends a BOOKMARK with the current resourceVersion to watches that allow bookmarks. Returns how many.
    @discardableResult
    public func sendBookmark() throws -> Int {
        try control("POST", "bookmark")["sent"] as? Int ?? 0
    }

    /// How many watch streams are open right now.
    public func openWatches() throws -> Int {
        try control("GET", "watches")["open"] as? Int ?? 0
    }

    // MARK: Request log

    /// Every API request served so far (or since `clearRequestLog`), oldest first.
    public func requestLog() throws -> [LoggedRequest] {
        let data = try controlData("GET", "requests")
        struct Log: Decodable { var requests: [LoggedRequest] }
        return try JSONDecoder().decode(Log.self, from: Data(data)).requests
    }

    /// Empties the request log.
    public func clearRequestLog() throws {
        _ = try controlData("DELETE", "requests")
    }

    // MARK: Plumbing

    private func control(_ method: String, _ path: String, body: [String: Any]? = nil,
                         acceptNotFound: Bool = false) throws -> [String: Any] {
        let data = try controlData(method, path, body: body, acceptNotFound: acceptNotFound)
        return (try? JSONSerialization.jsonObject(with: Data(data))) as? [String: Any] ?? [:]
    }

    private func controlData(_ method: String, _ path: String, body: [String: Any]? = nil,
                             acceptNotFound: Bool = false) throws -> [UInt8] {
        var arguments = ["curl", "-sS", "--cacert", caFile, "-X", method, "-w", "\n%{http_code}", "\(url)/__double/\(path)"]
        var input: [UInt8] = []
        if let body {
            input = [UInt8](try JSONSerialization.data(withJSONObject: body))
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        }
        let result = try runCommand(arguments, stdin: input)
        var output = result.stdout
        let codeStart = output.lastIndex(of: UInt8(ascii: "\n")) ?? output.startIndex
        let code = Int(String(decoding: output[codeStart...].dropFirst(), as: UTF8.self)) ?? 0
        output.removeSubrange(codeStart...)
        guard result.status == 0, code == 200 || (acceptNotFound && code == 404) else {
            throw Failure(description: "double control \(method) \(path) failed (curl \(result.status), HTTP \(code)): "
                          + result.stderrText + String(decoding: output, as: UTF8.self))
        }
        return output
    }
}
