import HTTPServer
import Synchronization

/// A responder with one route that takes a body, opted in as any responder does it
/// (``HTTPResponder/maxBodyBytes(method:path:)``): `POST /upload` takes at most `limit` bytes and answers with
/// the body itself (`X-Body-Bytes` says how many it got); `POST /upload/hold` takes one too and holds its promise,
/// as a responder that checks a token first would. Every other request is answered by ``EchoResponder`` and takes
/// no body.
final class UploadResponder: HTTPResponder {
    let limit: Int
    /// Requests the responder was asked to answer.
    let requests = Atomic<Int>(0)
    private let received = Mutex<[[UInt8]]>([])
    private let held = Mutex<[HTTPResponsePromise]>([])

    init(limit: Int = 1_024) { self.limit = limit }

    func maxBodyBytes(method: HTTPMethod, path: String) -> Int {
        method == .post && (path == "/upload" || path == "/upload/hold") ? limit : 0
    }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        guard request.method == .post && request.path.hasPrefix("/upload") else {
            return EchoResponder().respond(to: request)
        }
        return HTTPResponse(
            status: 200,
            headers: HTTPHeaders([("Content-Type", "application/octet-stream"), ("X-Body-Bytes", "\(request.body.count)")]),
            body: request.body)
    }

    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> HTTPResponse? {
        requests.wrappingAdd(1, ordering: .relaxed)
        received.withLock { $0.append(request.body) }
        if request.path == "/upload/hold" {
            held.withLock { $0.append(promise) }
            return nil
        }
        return respond(to: request)
    }

    /// The bodies of the requests answered or held so far, in order.
    var bodies: [[UInt8]] { received.withLock { $0 } }
}
