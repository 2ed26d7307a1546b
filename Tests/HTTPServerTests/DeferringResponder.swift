import Foundation
import HTTPServer
import Synchronization

/// A responder that answers some requests later, from other threads, like one that asks the Kubernetes API.
///
/// - `/defer/MS/…`: returns nil; a thread of its own fulfils the promise after MS milliseconds with what
///   ``EchoResponder`` would have said.
/// - `/hold/NAME`: returns nil and keeps the promise under NAME until the test fulfils it with
///   ``succeed(_:body:)`` (or never).
/// - `/inline/…`: fulfils the promise on the loop's own thread before returning nil.
/// - `/turn/…`: puts the answer off to the end of the loop's turn (``EventLoopTurn``) and fulfils it there, on
///   the loop's thread; every such answer of one turn shares one batch, as the audit log's lines do.
/// - `/twice/…`: a thread fulfils the promise twice: first with the echo, then with `second answer`.
/// - anything else: answered at once by ``EchoResponder``.
final class DeferringResponder: HTTPResponder {
    private let held = Mutex<[String: HTTPResponsePromise]>([:])
    /// How many requests were deferred so far.
    let deferredCount = Atomic<Int>(0)
    /// How many `/defer/…` promises were fulfilled so far (counted just before fulfilling).
    let fulfilledCount = Atomic<Int>(0)

    func respond(to request: HTTPRequest) -> HTTPResponse {
        EchoResponder().respond(to: request)
    }

    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> HTTPResponse? {
        let parts = request.path.split(separator: "/")
        if parts.count >= 2 && parts[0] == "defer", let milliseconds = Int(parts[1]) {
            deferredCount.wrappingAdd(1, ordering: .relaxed)
            let response = EchoResponder().respond(to: request)
            Thread {
                Thread.sleep(forTimeInterval: Double(milliseconds) / 1000)
                self.fulfilledCount.wrappingAdd(1, ordering: .relaxed)
                promise.succeed(response)
            }.start()
            return nil
        }
        if parts.first == "inline" {
            deferredCount.wrappingAdd(1, ordering: .relaxed)
            promise.succeed(EchoResponder().respond(to: request))
            return nil
        }
        if parts.first == "turn", let turn = promise.turn {
            deferredCount.wrappingAdd(1, ordering: .relaxed)
            let batch = turn.value(for: ObjectIdentifier(self)) { TurnBatch() }
            batch.answers.append((promise, EchoResponder().respond(to: request)))
            if batch.answers.count == 1 {
                turn.atEnd {
                    let due = batch.answers
                    batch.answers.removeAll()
                    self.turnBatchSizes.withLock { $0.append(due.count) }
                    for (promise, response) in due { promise.succeed(response) }
                }
            }
            return nil
        }
        if parts.first == "twice" {
            deferredCount.wrappingAdd(1, ordering: .relaxed)
            let response = EchoResponder().respond(to: request)
            Thread {
                promise.succeed(response)
                promise.succeed(HTTPResponse(status: 200, body: Array("second answer\n".utf8)))
            }.start()
            return nil
        }
        if parts.count == 2 && parts[0] == "hold" {
            deferredCount.wrappingAdd(1, ordering: .relaxed)
            held.withLock { $0[String(parts[1])] = promise }
            return nil
        }
        return respond(to: request)
    }

    /// The answers `/turn/…` requests put off to the end of one turn of one loop.
    private final class TurnBatch {
        var answers: [(HTTPResponsePromise, HTTPResponse)] = []
    }

    /// How many `/turn/…` answers each turn's batch released, in order.
    let turnBatchSizes = Mutex<[Int]>([])

    /// Whether a promise is held under `name`.
    func isHolding(_ name: String) -> Bool { held.withLock { $0[name] != nil } }

    /// Fulfils the promise held under `name` with a 200 `text/plain` `body` (returns false if none is held).
    @discardableResult
    func succeed(_ name: String, body: String) -> Bool {
        guard let promise = held.withLock({ $0.removeValue(forKey: name) }) else { return false }
        promise.succeed(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: Array(body.utf8)))
        return true
    }
}
