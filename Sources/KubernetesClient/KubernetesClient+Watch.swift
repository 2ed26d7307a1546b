extension KubernetesClient {
    /// How an accepted (HTTP 200) watch stream came to an end.
    enum WatchStreamEnd: Equatable {
        /// The server closed the stream cleanly (its `timeoutSeconds`).
        case completed
        /// The connection broke or timed out mid-stream (libcurl's text).
        case interrupted(String)
        /// `onEvent` asked to stop reading.
        case stoppedByReceiver
        /// `shouldAbort` answered true.
        case aborted
    }

    /// WATCHes one secret from `resourceVersion`, calling `onEvent` for each event line (a partial last line is
    /// dropped) until the stream ends or `onEvent` answers false.
    /// - Throws: `.status` when the API refuses the watch (after one token re-read on 401), `.transport` when it
    ///   never started, `.decoding` for an event line that is not a watch event.
    func watchSecret(
        namespace: String, name: String, resourceVersion: String,
        shouldAbort: @escaping () -> Bool,
        onEvent: @escaping (WatchEvent) -> Bool
    ) throws(KubernetesError) -> WatchStreamEnd {
        var query = "?watch=true&fieldSelector=" + percentEncoded("metadata.name=\(name)")
        if !resourceVersion.isEmpty { query += "&resourceVersion=" + percentEncoded(resourceVersion) }
        query += "&allowWatchBookmarks=true&timeoutSeconds=\(configuration.watchTimeoutSeconds)"
        let path = Self.secretsPath(namespace: namespace) + query
        var retried = false
        while true {
            let token = try bearerToken(reread: retried)
            let stream = WatchStream(maxEventBytes: configuration.maxWatchEventBytes, onEvent: onEvent)
            let timeout = Duration.seconds(configuration.watchTimeoutSeconds) + configuration.watchTimeoutSlack
            let result = CurlTransfer.perform(request(path: path, token: token, timeout: timeout),
                                              shouldAbort: shouldAbort, onBody: stream.consume)
            let status: Int
            switch result {
            case .success(let code), .failure(.curl(_, _, let code)): status = code
            case .failure(.aborted): status = stream.status
            }
            logger.debug("Kubernetes API watch", metadata: ["path": "\(path)", "status": "\(status)"])
            if status == 401 && !retried {
                retried = true
                logger.info("Kubernetes API answered 401 to a watch; re-reading the token file and retrying once")
                continue
            }
            if let decodingError = stream.decodingError { throw decodingError }
            if status != 0 && status != 200 {
                throw .status(Self.status(from: stream.errorBody, httpCode: status))
            }
            if stream.hasPartialLine { logger.debug("Kubernetes API watch cut mid-event; the partial event was dropped") }
            switch result {
            case .success: return stream.stoppedByReceiver ? .stoppedByReceiver : .completed
            case .failure(.aborted): return stream.stoppedByReceiver ? .stoppedByReceiver : .aborted
            case .failure(.curl(let code, let message, _)):
                if status == 200 { return .interrupted(message) }
                throw .transport(.init(request: "watch \(Self.secretsPath(namespace: namespace))", code: code, message: message))
            }
        }
    }

    /// Splits a watch body into events; keeps a refusal's body to decode its Status.
    private final class WatchStream {
        let onEvent: (WatchEvent) -> Bool
        var splitter: LineSplitter
        var status = 0
        var errorBody: [UInt8] = []
        var decodingError: KubernetesError?
        var stoppedByReceiver = false
        var hasPartialLine: Bool { splitter.hasPartialLine }

        init(maxEventBytes: Int, onEvent: @escaping (WatchEvent) -> Bool) {
            self.onEvent = onEvent
            splitter = LineSplitter(maxLineBytes: maxEventBytes)
        }

        func consume(status: Int, bytes: UnsafeRawBufferPointer) -> Bool {
            self.status = status
            guard status == 200 else {
                if errorBody.count < 65536 { errorBody.append(contentsOf: bytes) }
                return true
            }
            let lines: [[UInt8]]
            do {
                lines = try splitter.append(bytes)
            } catch {
                decodingError = .decoding(.init(
                    object: "watch event",
                    problem: "a watch event line is longer than \(error.maxLineBytes) bytes (a Secret is at most 1 MiB); the watch was ended"))
                return false
            }
            for line in lines {
                do {
                    let event = try WatchEvent.decode(line: line)
                    if !onEvent(event) { stoppedByReceiver = true; return false }
                } catch {
                    decodingError = error
                    return false
                }
            }
            return true
        }
    }
}
