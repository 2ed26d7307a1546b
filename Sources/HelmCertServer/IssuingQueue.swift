import Dispatch
import HTTPServer
import Synchronization

/// Runs certificate issuing (key generation, RSA's especially, and signing) off the event loops, bounded:
///
/// - at most ``Limits/concurrency`` jobs run at once (default 2: the machine's cores stay free for serving);
/// - at most ``Limits/maxPending`` requests wait or run (default 32), and at most ``Limits/maxPendingPerClient``
///   of them from one client address (default 4, ``ClientAddress``: an IPv6 client counts as its /64, everyone
///   behind a proxy as the proxy), and at most ``Limits/maxPendingPerUser`` for one caller (default 8, by the
///   audited user name), so neither one client nor one user's many pods (each with an address of its own) can take
///   every place: a user's excess is refused while others still get theirs;
/// - beyond either, ``submit(from:hasLeft:job:)`` refuses at once (the route answers 503 with `Retry-After`)
///   instead of queueing without bound;
/// - a queued job whose client has left (its `hasLeft` says so) is skipped when its turn comes: nothing is
///   generated or signed for nobody.
///
/// Jobs run on a few Dispatch workers the queue starts as needed; none blocks on a semaphore while waiting.
public final class IssuingQueue: Sendable {
    /// How much runs and waits.
    public struct Limits: Sendable {
        /// The most jobs running at once.
        public var concurrency = 2
        /// The most requests waiting or running.
        public var maxPending = 32
        /// The most of those from one client address.
        public var maxPendingPerClient = 4
        /// The most of those for one caller (user name), from any number of addresses.
        public var maxPendingPerUser = 8

        public init(concurrency: Int = 2, maxPending: Int = 32, maxPendingPerClient: Int = 4, maxPendingPerUser: Int = 8) {
            self.concurrency = concurrency
            self.maxPending = maxPending
            self.maxPendingPerClient = maxPendingPerClient
            self.maxPendingPerUser = max(1, maxPendingPerUser)
        }
    }

    /// A job and whose place it holds.
    private struct Job: Sendable {
        let client: ClientAddress
        let user: String
        let hasLeft: @Sendable () -> Bool
        /// Runs the work; told whether the client has left meanwhile (then it only cleans up and answers nobody).
        let run: @Sendable (_ clientLeft: Bool) -> Void
    }

    private struct State: Sendable {
        var places: ClientShares
        /// Places taken, by user; a user with none has no entry, so this holds at most `maxPending` entries.
        var byUser: [String: Int] = [:]
        var queued: [Job] = []
        var head = 0
        var running = 0

        mutating func next() -> Job? {
            guard head < queued.count else { return nil }
            let job = queued[head]
            head += 1
            if head == queued.count || head > 64 {
                queued.removeFirst(head)
                head = 0
            }
            return job
        }
    }

    public let limits: Limits
    private let state: Mutex<State>
    private let workers = DispatchQueue(label: "helm-cert-server.issuing", attributes: .concurrent)

    public init(limits: Limits = Limits()) {
        self.limits = limits
        state = Mutex(State(places: ClientShares(maxTotal: limits.maxPending, maxPerClient: limits.maxPendingPerClient)))
    }

    /// Why a job was not queued, as the 503's detail.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case full(Int)
        case clientFull(ClientAddress, Int)
        case userFull(String, Int)

        public var description: String {
            switch self {
            case .full(let limit):
                "too many certificates are being issued (\(limit) requests waiting); retry shortly"
            case .clientFull(let client, let limit):
                "too many certificate requests from \(client) are waiting (at most \(limit)); retry when they are answered"
            case .userFull(let user, let limit):
                "too many certificate requests for \(user) are waiting (at most \(limit) per user); retry when they are answered"
            }
        }
    }

    /// Queues `job` for a worker thread.
    /// - Parameters:
    ///   - remoteAddress: the peer (`1.2.3.4:5678`), whose share of the places the job takes.
    ///   - user: the authenticated caller, whose share of the places the job takes too.
    ///   - hasLeft: whether the request's client has gone.
    ///   - job: the work; its argument says the client left before its turn (do nothing slow, answer nobody).
    /// - Throws: ``Refusal`` when the places, overall, this client's or this user's, are all taken; `job` is then
    ///   never run.
    public func submit(
        from remoteAddress: String, user: String, hasLeft: @escaping @Sendable () -> Bool,
        job: @escaping @Sendable (_ clientLeft: Bool) -> Void
    ) throws(Refusal) {
        let client = ClientAddress(remoteAddress: remoteAddress)
        let startWorker = try state.withLock { state throws(Refusal) -> Bool in
            switch state.places.refusal(for: client) {
            case .full: throw .full(limits.maxPending)
            case .clientFull(let client): throw .clientFull(client, limits.maxPendingPerClient)
            case nil: break
            }
            guard state.byUser[user, default: 0] < limits.maxPendingPerUser else {
                throw .userFull(user, limits.maxPendingPerUser)
            }
            _ = state.places.take(client)
            state.byUser[user, default: 0] += 1
            state.queued.append(Job(client: client, user: user, hasLeft: hasLeft, run: job))
            guard state.running < limits.concurrency else { return false }
            state.running += 1
            return true
        }
        if startWorker { workers.async { self.work() } }
    }

    /// Requests waiting or running now.
    public var pending: Int { state.withLock { $0.places.total } }

    /// Runs queued jobs until none is left.
    private func work() {
        while let job = state.withLock({ state -> Job? in
            if let job = state.next() { return job }
            state.running -= 1
            return nil
        }) {
            job.run(job.hasLeft())
            state.withLock { state in
                state.places.release(job.client)
                let held = state.byUser[job.user, default: 1]
                state.byUser[job.user] = held <= 1 ? nil : held - 1
            }
        }
    }
}
