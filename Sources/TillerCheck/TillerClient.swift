import CCurlShims
import CLibCurl
import CText
import FoundationEssentials
import HelmBundle
import DurationUnits

/// Calls Tiller's `hapi.services.tiller.ReleaseService/GetVersion` the way Helm 2 with `--tls` would: gRPC over
/// HTTP/2 with TLS (ALPN `h2`), presenting the bundle's `cert.pem`/`key.pem` and trusting only its `ca.pem`.
///
/// Blocking, on the calling thread (the service runs it on a thread of its own, never on an event loop). libcurl
/// with nghttp2 speaks HTTP/2; the key goes to libcurl as an in-memory blob (copied by libcurl, never written
/// to disk or logged). The peer's name is not required to match (Helm's `--tls` does not check it); whether it
/// matches is reported. Knows nothing about serving.
public struct TillerClient: Sendable {
    /// `HOST:PORT` (`[v6]:PORT` for IPv6 literals).
    public let address: String
    /// The whole check's limit, connect included: a Tiller that accepts and hangs costs at most this.
    public let timeout: Duration

    /// What the bundle lends the check.
    public struct Credentials: Sendable {
        public var ca: [UInt8]
        public var certificate: [UInt8]
        public var key: [UInt8]
        /// `cert.pem`'s and `ca.pem`'s ends, to say which certificate expired.
        public var certificateNotAfter: Date?
        public var caNotAfter: Date?
        public init(ca: [UInt8], certificate: [UInt8], key: [UInt8], certificateNotAfter: Date?, caNotAfter: Date?) {
            self.ca = ca
            self.certificate = certificate
            self.key = key
            self.certificateNotAfter = certificateNotAfter
            self.caNotAfter = caNotAfter
        }
    }

    public init(address: String, timeout: Duration) {
        self.address = address
        self.timeout = timeout
    }

    /// The host part of ``address`` (brackets of an IPv6 literal removed), for the name check.
    var host: String {
        var host = address
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host
    }

    /// One check, start to end.
    public func check(_ credentials: Credentials, now: @Sendable () -> Date = { Date() }) -> TillerCheckResult {
        var result = TillerCheckResult(address: address, checkedAt: now())
        if let reason = Self.loadFailure {
            result.failure = .libcurl(detail: reason)
            return result
        }
        let started = ContinuousClock.now
        let call = perform(credentials, verifyPeer: true, timeout: timeout)
        if let pem = call.peerCertificatePEM {
            result.serverCertificate = try? ServerCertificate(pem: pem, caPEM: credentials.ca, host: host)
        }
        switch call.code {
        case CURLE_OK:
            result.failure = Self.interpret(call)
            if result.failure == nil {
                do {
                    result.version = try GRPCMessage.semanticVersion(fromFramedResponse: call.body)
                } catch {
                    result.failure = .notTiller(detail: "GetVersion's answer: \(error)")
                }
            }
        case CURLE_PEER_FAILED_VERIFICATION:
            // Handshake again without verification, only to see (and report) the certificate Tiller shows, within
            // what is left of the timeout.
            let left = timeout - (ContinuousClock.now - started)
            let look = left > .milliseconds(100)
                ? perform(credentials, verifyPeer: false, connectOnly: true, timeout: left) : Call()
            let certificate = look.peerCertificatePEM.flatMap { try? ServerCertificate(pem: $0, caPEM: credentials.ca, host: host) }
            result.serverCertificate = certificate
            let checkedAt = result.checkedAt
            if let caEnd = credentials.caNotAfter, caEnd < checkedAt {
                result.failure = .caExpired(notAfter: caEnd)
            } else if let certificate, certificate.info.notAfter < checkedAt {
                result.failure = .serverCertificateExpired(notAfter: certificate.info.notAfter)
            } else {
                result.failure = .serverCertificateNotSignedByCA(issuer: certificate?.info.issuer ?? "unknown: \(call.message)")
            }
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
            result.failure = .unreachable(address: address, detail: call.message)
        case CURLE_OPERATION_TIMEDOUT:
            if call.connected {
                result.failure = .timedOut(address: address, seconds: Int(timeout.components.seconds))
            } else {
                result.failure = .unreachable(address: address, detail: call.message)
            }
        case CURLE_SSL_CONNECT_ERROR, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM,
             CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            // A server that demands a client certificate and dislikes ours ends the connection at the handshake
            // (TLS 1.2) or right after it (TLS 1.3, where the client has already sent its request).
            let expired = credentials.certificateNotAfter.flatMap { $0 < result.checkedAt ? $0 : nil }
            result.failure = .clientCertificateRefused(detail: call.message, clientNotAfter: expired)
        case CURLE_WRITE_ERROR:
            result.failure = .notTiller(detail: "the answer is longer than \(GRPCMessage.maximumResponseBytes / 1024) KiB")
        default:
            result.failure = .notTiller(detail: call.message)
        }
        return result
    }

    /// A completed call's failure: HTTP status, content type and `grpc-status`.
    static func interpret(_ call: Call) -> TillerCheckFailure? {
        guard call.httpStatus == 200 else { return .notTiller(detail: "HTTP status \(call.httpStatus)") }
        guard let status = call.grpcStatus else {
            return .notTiller(detail: "no grpc-status in the answer (content type \(call.contentType ?? "none"))")
        }
        guard status == 0 else { return .grpc(status: status, message: call.grpcMessage ?? "") }
        return nil
    }

    /// What one libcurl transfer saw.
    struct Call {
        var code: CURLcode = CURLE_OK
        var message = ""
        var connected = false
        var httpStatus = 0
        var contentType: String?
        var grpcStatus: Int?
        var grpcMessage: String?
        var body: [UInt8] = []
        var peerCertificatePEM: [UInt8]?
    }

    /// Why libcurl cannot be used (nil once loaded); `cshim_curl_load` runs once per process.
    static let loadFailure: String? = {
        var reason = [CChar](repeating: 0, count: 512)
        guard cshim_curl_load(&reason, reason.count) != Int32(CSHIM_CURL_LOADED) else { return nil }
        let text = String(cText: reason)
        return "libcurl could not be loaded (\(text)); install Debian's libcurl4 package"
    }()

    /// One transfer: the gRPC call, or (`connectOnly`) only the TLS handshake.
    func perform(_ credentials: Credentials, verifyPeer: Bool, connectOnly: Bool = false, timeout: Duration) -> Call {
        var call = Call()
        // The error buffer and header list outlive the handle (libcurl writes the buffer until cleanup).
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { cshim_curl_slist_free_all(headerList) }
        for header in ["Content-Type: application/grpc", "TE: trailers", "Expect:"] {
            headerList = cshim_curl_slist_append(headerList, header)
        }
        guard let handle = cshim_curl_easy_init() else {
            call.code = CURLE_OUT_OF_MEMORY
            call.message = "curl_easy_init failed"
            return call
        }
        defer { cshim_curl_easy_cleanup(handle) }
        let sink = Sink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()

        var setup = CURLE_OK
        func set(_ code: CURLcode) { if setup == CURLE_OK { setup = code } }
        func blob(_ option: CURLoption, _ bytes: [UInt8]) {
            bytes.withUnsafeBytes { raw in
                // CURL_BLOB_COPY: libcurl copies the bytes during setopt and never writes through `data`.
                var blob = curl_blob(
                    data: UnsafeMutableRawPointer(mutating: raw.baseAddress), len: raw.count, flags: UInt32(CURL_BLOB_COPY))
                set(withUnsafeMutablePointer(to: &blob) { cshim_curl_easy_setopt_ptr(handle, option, $0) })
            }
        }
        set(cshim_curl_easy_setopt_str(handle, CURLOPT_URL, "https://\(address)/hapi.services.tiller.ReleaseService/GetVersion"))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, verifyPeer ? 1 : 0))
        // Helm 2 with --tls does not check Tiller's name; ServerCertificate reports whether it matches.
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_CERTINFO, 1))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout.timeoutMilliseconds))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, timeout.timeoutMilliseconds))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        set(cshim_curl_easy_setopt_str(handle, CURLOPT_USERAGENT, "helm-cert-server tiller-check"))
        set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        blob(CURLOPT_CAINFO_BLOB, credentials.ca)
        blob(CURLOPT_SSLCERT_BLOB, credentials.certificate)
        set(cshim_curl_easy_setopt_str(handle, CURLOPT_SSLCERTTYPE, "PEM"))
        blob(CURLOPT_SSLKEY_BLOB, credentials.key)
        set(cshim_curl_easy_setopt_str(handle, CURLOPT_SSLKEYTYPE, "PEM"))
        if connectOnly {
            set(cshim_curl_easy_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1))
        } else {
            set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList))
            set(cshim_curl_easy_setopt_long(handle, CURLOPT_POSTFIELDSIZE, GRPCMessage.emptyRequest.count))
            GRPCMessage.emptyRequest.withUnsafeBytes { bytes in
                set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress)))
            }
            set(cshim_curl_easy_setopt_write_callback(handle, Self.onBody))
            set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_WRITEDATA, sinkPointer))
            // Trailers (grpc-status) arrive here too, after the headers.
            set(cshim_curl_easy_setopt_header_callback(handle, Self.onHeader))
            set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_HEADERDATA, sinkPointer))
        }
        guard setup == CURLE_OK else {
            call.code = setup
            call.message = "curl_easy_setopt: " + String(cString: cshim_curl_easy_strerror(setup))
            return call
        }
        call.code = withExtendedLifetime(sink) { cshim_curl_easy_perform(handle) }
        let detail = String(cText: UnsafeBufferPointer(start: errorBuffer, count: Int(CURL_ERROR_SIZE) + 1))
        call.message = detail.isEmpty ? String(cString: cshim_curl_easy_strerror(call.code)) : detail
        // The local port is known once TCP connected (the TLS handshake, which a hanging Tiller never finishes,
        // belongs to libcurl's connect phase and its connect timeout).
        var localPort = 0
        _ = cshim_curl_easy_getinfo_long(handle, CURLINFO_LOCAL_PORT, &localPort)
        call.connected = localPort > 0
        _ = cshim_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &call.httpStatus)
        call.peerCertificatePEM = Self.peerCertificate(handle)
        call.body = sink.body
        call.grpcStatus = sink.headers["grpc-status"].flatMap { Int($0) }
        call.grpcMessage = sink.headers["grpc-message"]
        call.contentType = sink.headers["content-type"]
        return call
    }

    /// The leaf's PEM from CURLINFO_CERTINFO (libcurl lists each certificate's fields; `Cert:` holds the PEM).
    private static func peerCertificate(_ handle: UnsafeMutableRawPointer) -> [UInt8]? {
        var raw: UnsafeMutableRawPointer? = nil
        guard cshim_curl_easy_getinfo_ptr(handle, CURLINFO_CERTINFO, &raw) == CURLE_OK, let raw else { return nil }
        let info = raw.assumingMemoryBound(to: curl_certinfo.self).pointee
        guard info.num_of_certs > 0, let lists = info.certinfo else { return nil }
        var item = lists[0]
        while let node = item {
            if let data = node.pointee.data {
                let line = String(cString: data)
                if line.hasPrefix("Cert:") { return Array(line.dropFirst(5).utf8) }
            }
            item = node.pointee.next
        }
        return nil
    }

    /// Collects the answer, bounded.
    private final class Sink {
        var body: [UInt8] = []
        /// Lower-cased names; headers and trailers alike, the last one wins. At most 64 kept.
        var headers: [String: String] = [:]
    }

    private static let onBody: cshim_curl_write_callback = { data, size, count, userData in
        guard let userData, let data else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(userData).takeUnretainedValue()
        let length = size * count
        guard sink.body.count + length <= GRPCMessage.maximumResponseBytes else { return 0 }
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
        return length
    }

    private static let onHeader: cshim_curl_write_callback = { data, size, count, userData in
        guard let userData, let data else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(userData).takeUnretainedValue()
        let length = size * count
        // Bytes, not Characters: Swift takes "\r\n" for one Character.
        var bytes = UnsafeRawBufferPointer(start: data, count: length)[...]
        while let last = bytes.last, last == 13 || last == 10 { bytes = bytes.dropLast() }
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), sink.headers.count < 64 {
            let name = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
            let value = bytes[(colon + 1)...].drop { $0 == 32 || $0 == 9 }
            sink.headers[name] = String(decoding: value, as: UTF8.self)
        }
        return length
    }
}
