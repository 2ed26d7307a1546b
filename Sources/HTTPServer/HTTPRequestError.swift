/// Why a request was refused, as the status and a short text the client sees.
struct HTTPRequestError: Error, Equatable, Sendable {
    /// 400, 431 or 505 for a head; 411 or 413 for a body the route does not take as sent.
    var status: Int
    /// One line saying what was wrong.
    var reason: String
}
