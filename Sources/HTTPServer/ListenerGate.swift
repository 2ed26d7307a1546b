/// Whether a loop polls its listener, without I/O: `accept4` failing for lack of file descriptors (`EMFILE`,
/// `ENFILE`) or memory pauses polling (a level-triggered listener would otherwise wake the loop at once,
/// again and again: a busy loop that serves nobody); a connection of the loop closing, or ``retryDelay``
/// passing, resumes it. Each episode is reported once when it starts and once when an accept succeeds again.
struct ListenerGate: Sendable {
    /// What the loop should do with its listener and its log.
    enum Action: Equatable, Sendable {
        case none
        /// Take the listener out of the epoll set; log when `firstInEpisode`.
        case pause(firstInEpisode: Bool)
        /// Put the listener back into the epoll set.
        case resume
        /// Accepting works again after an episode: log it.
        case episodeEnded
    }

    /// How long polling pauses unless a connection closes first.
    let retryDelay: Int64
    /// Whether the listener is polled.
    private(set) var isPolling = true
    /// When polling resumes by itself (monotonic ns), `Int64.max` while polling.
    private(set) var resumesAt = Int64.max
    /// An accept failed since the last one that succeeded.
    private(set) var inEpisode = false

    init(retryDelay: Int64) { self.retryDelay = retryDelay }

    /// `accept4` failed at `now` for a reason waiting for epoll won't fix.
    mutating func acceptFailed(now: Int64) -> Action {
        let first = !inEpisode
        inEpisode = true
        isPolling = false
        resumesAt = now &+ retryDelay
        return .pause(firstInEpisode: first)
    }

    /// `accept4` returned a connection.
    mutating func accepted() -> Action {
        guard inEpisode else { return .none }
        inEpisode = false
        return .episodeEnded
    }

    /// A connection of the loop closed: a descriptor is free, so try again now.
    mutating func connectionClosed() -> Action { resume() }

    /// The loop woke at `now`: resume once the delay passed.
    mutating func timePassed(now: Int64) -> Action {
        guard !isPolling && now >= resumesAt else { return .none }
        return resume()
    }

    private mutating func resume() -> Action {
        guard !isPolling else { return .none }
        isPolling = true
        resumesAt = Int64.max
        return .resume
    }
}
