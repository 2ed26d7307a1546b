import CCurlShims
import CLibCurl
import CText
import DurationUnits

/// One HTTP exchange on a libcurl easy handle, performed on the calling thread.
///
/// The body is handed to `onBody` as it arrives (the watch splits it into lines); `shouldAbort` is polled from
/// libcurl's progress callback, which runs at least about once a second even while the connection is idle,
/// so another thread can cut a long transfer short.
struct CurlTransfer {
    /// What to send.
    struct Request {
        var url: String
        var method: String = "GET"
        var headers: [String] = []
        var body: [UInt8]? = nil
        var caFile: String?
        var connectTimeout: Duration
        var totalTimeout: Duration
    }

    /// Why a transfer did not complete.
    enum Failure: Error, Equatable {
        /// `shouldAbort` answered true or `onBody` refused data.
        case aborted
        /// libcurl's error (connect, TLS, timeout, cut connection), with its text, and the HTTP status if the
        /// response head had arrived (0 if not).
        case curl(code: CURLcode, message: String, httpStatus: Int)
    }

    /// Why libcurl could not be loaded (nil once it is): `cshim_curl_load` opens `libcurl.so.4` on first use,
    /// so a server that never talks to the API never maps libcurl and the libraries it pulls in.
    static let loadFailure: KubernetesError.ConfigurationProblem? = {
        var reason = [CChar](repeating: 0, count: 512)
        let result = cshim_curl_load(&reason, reason.count)
        guard result != Int32(CSHIM_CURL_LOADED) else { return nil }
        let text = String(cText: reason)
        return .libcurlUnavailable(detail: text, notFound: result == Int32(CSHIM_CURL_NOT_FOUND))
    }()

    /// Performs `request`.
    /// - Parameters:
    ///   - request: URL, method, headers, body, CA file and timeouts.
    ///   - shouldAbort: polled often; answer true to abort.
    ///   - onBody: gets the HTTP status code and each piece of the body; answer false to abort.
    /// - Returns: the HTTP status code of a completed exchange.
    static func perform(
        _ request: Request,
        shouldAbort: @escaping () -> Bool = { false },
        onBody: @escaping (Int, UnsafeRawBufferPointer) -> Bool
    ) -> Result<Int, Failure> {
        if let loadFailure { return .failure(.curl(code: CURLE_FAILED_INIT, message: loadFailure.description, httpStatus: 0)) }
        // What the handle points at (the error buffer, the header list) is made before the handle and freed
        // after `curl_easy_cleanup`: libcurl may still write to CURLOPT_ERRORBUFFER until then. (Deferred
        // blocks run last-declared first, so the handle's cleanup is declared last.)
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { cshim_curl_slist_free_all(headerList) }
        for header in request.headers { headerList = cshim_curl_slist_append(headerList, header) }
        guard let handle = cshim_curl_easy_init() else {
            return .failure(.curl(code: CURLE_FAILED_INIT, message: "curl_easy_init failed (out of memory?)", httpStatus: 0))
        }
        defer { cshim_curl_easy_cleanup(handle) }
        let context = Context(handle: handle, shouldAbort: shouldAbort, onBody: onBody)
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()

        var setup = CURLE_OK
        func set(_ code: CURLcode) { if setup == CURLE_OK { setup = code } }
        set(cshim_curl_easy_setopt_str(handle, CURLOPT_URL, request.url))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile = request.caFile { set(cshim_curl_easy_setopt_str(handle, CURLOPT_CAINFO, caFile)) }
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.timeoutMilliseconds))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.totalTimeout.timeoutMilliseconds))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        set(cshim_curl_easy_setopt_str(handle, CURLOPT_USERAGENT, "helm-cert-server"))
        set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList))
        set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        if request.method != "GET" { set(cshim_curl_easy_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method)) }
        if let body = request.body {
            set(cshim_curl_easy_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count))
            body.withUnsafeBytes { bytes in
                set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress)))
            }
        }
        set(cshim_curl_easy_setopt_write_callback(handle, curlWrite))
        set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_WRITEDATA, contextPointer))
        set(cshim_curl_easy_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
        set(cshim_curl_easy_setopt_xferinfo_callback(handle, curlProgress))
        set(cshim_curl_easy_setopt_ptr(handle, CURLOPT_XFERINFODATA, contextPointer))
        guard setup == CURLE_OK else {
            let message = "curl_easy_setopt: " + String(cString: cshim_curl_easy_strerror(setup))
            return .failure(.curl(code: setup, message: message, httpStatus: 0))
        }

        let code = withExtendedLifetime(context) { cshim_curl_easy_perform(handle) }
        if context.aborted { return .failure(.aborted) }
        guard code == CURLE_OK else {
            let detail = String(cText: UnsafeBufferPointer(start: errorBuffer, count: Int(CURL_ERROR_SIZE) + 1))
            let message = detail.isEmpty ? String(cString: cshim_curl_easy_strerror(code)) : detail
            return .failure(.curl(code: code, message: message, httpStatus: context.responseCode()))
        }
        return .success(context.responseCode())
    }

    /// What the C callbacks reach through their user-data pointer.
    private final class Context {
        let handle: UnsafeMutableRawPointer
        let shouldAbort: () -> Bool
        let onBody: (Int, UnsafeRawBufferPointer) -> Bool
        var aborted = false

        init(handle: UnsafeMutableRawPointer, shouldAbort: @escaping () -> Bool,
             onBody: @escaping (Int, UnsafeRawBufferPointer) -> Bool) {
            self.handle = handle
            self.shouldAbort = shouldAbort
            self.onBody = onBody
        }

        func responseCode() -> Int {
            var code = 0
            _ = cshim_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
            return code
        }
    }

    private static let curlWrite: cshim_curl_write_callback = { data, size, count, userData in
        guard let userData else { return 0 }
        let context = Unmanaged<Context>.fromOpaque(userData).takeUnretainedValue()
        let length = size * count
        if context.shouldAbort() { context.aborted = true; return 0 }
        let accepted = context.onBody(context.responseCode(), UnsafeRawBufferPointer(start: data, count: length))
        if !accepted { context.aborted = true; return 0 }
        return length
    }

    private static let curlProgress: cshim_curl_xferinfo_callback = { userData, _, _, _, _ in
        guard let userData else { return 0 }
        let context = Unmanaged<Context>.fromOpaque(userData).takeUnretainedValue()
        if context.shouldAbort() { context.aborted = true; return 1 }
        return 0
    }
}
