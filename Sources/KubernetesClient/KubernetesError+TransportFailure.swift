import CLibCurl

extension KubernetesError {
    /// A request that did not complete, as libcurl reported it.
    public struct TransportFailure: Sendable, Equatable, CustomStringConvertible {
        /// What was asked: `GET /api/v1/namespaces/NS/secrets/NAME`, `watch /api/v1/namespaces/NS/secrets`.
        public var request: String
        /// libcurl's result: `CURLE_COULDNT_CONNECT`, `CURLE_OPERATION_TIMEDOUT`, `CURLE_PEER_FAILED_VERIFICATION`,
        /// …; `CURLE_ABORTED_BY_CALLBACK` or `CURLE_WRITE_ERROR` when this client cut the transfer itself.
        public var code: CURLcode
        /// libcurl's error-buffer text (its `curl_easy_strerror` text when the buffer was empty), or why this
        /// client cut the transfer.
        public var message: String

        /// - Parameters:
        ///   - request: the method (or `watch`) and path.
        ///   - code: libcurl's result code.
        ///   - message: libcurl's text for it; never the token.
        public init(request: String, code: CURLcode, message: String) {
            self.request = request
            self.code = code
            self.message = message
        }

        /// `"<request>: <message>"`.
        public var description: String { "\(request): \(message)" }
    }
}
