import HTTPServer

/// Places in a bounded wait, counted overall and by client address, so one client cannot take them all: the
/// Kubernetes review queue (``KubernetesTokenReviewer``) and the certificate issuing queue (``IssuingQueue``)
/// both keep one. Not thread-safe by itself: its owner keeps it under its lock.
struct ClientShares: Sendable {
    /// Why a place was not given.
    enum Refusal: Sendable, Equatable {
        /// ``maxTotal`` places are taken.
        case full
        /// ``maxPerClient`` places are taken by this client.
        case clientFull(ClientAddress)
    }

    /// The most places taken at once (at least 1).
    let maxTotal: Int
    /// The most places one client address takes at once (at least 1).
    let maxPerClient: Int
    /// Places taken.
    private(set) var total = 0
    /// Places taken, by client; a client with none has no entry, so this holds at most ``maxTotal`` entries.
    private var byClient: [ClientAddress: Int] = [:]

    init(maxTotal: Int, maxPerClient: Int) {
        self.maxTotal = max(1, maxTotal)
        self.maxPerClient = max(1, maxPerClient)
    }

    /// Places `client` holds now.
    func taken(by client: ClientAddress) -> Int { byClient[client, default: 0] }

    /// Why `client` could not take a place now, or nil when it could.
    func refusal(for client: ClientAddress) -> Refusal? {
        if total >= maxTotal { return .full }
        if taken(by: client) >= maxPerClient { return .clientFull(client) }
        return nil
    }

    /// Takes a place for `client`, unless the wait is full overall or for that client.
    mutating func take(_ client: ClientAddress) -> Refusal? {
        if let refusal = refusal(for: client) { return refusal }
        total += 1
        byClient[client, default: 0] += 1
        return nil
    }

    /// Gives back a place `client` took.
    mutating func release(_ client: ClientAddress) {
        guard let held = byClient[client] else {
            preconditionFailure("ClientShares.release for \(client), which holds no place")
        }
        total -= 1
        byClient[client] = held == 1 ? nil : held - 1
    }
}
