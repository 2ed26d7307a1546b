/// Why a request head was refused, as the status and a short text the client sees.
struct HTTPRequestError: Error, Equatable, Sendable {
    /// 400, 431 or 505.
    var status: Int
    /// One line saying what was wrong.
    var reason: String
}
