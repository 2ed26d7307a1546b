import FuzzSupport
@testable import HTTPServer

/// The HTTP request head parser, fed a byte stream the way `HTTPConnection` feeds it: parse at the start of the
/// unconsumed bytes; a complete head is consumed and, by what `HTTPRequestHead.bodyHandling(accepting:)` says for
/// the route's body limit, either the next request follows (no body), the body's `Content-Length` bytes are taken
/// first (a route that takes it), or the stream ends (a refusal, or a body the route does not read); need-more
/// waits for the next chunk and resumes where it stopped (`HeadScan`, or the body's missing bytes).
///
/// Properties beyond "no crash":
/// - the stream gives the same outcomes (heads, bodies, refusals) whether it arrives whole, one byte at a time,
///   or in chunks cut at points drawn from the input;
/// - a complete head's length is inside the bytes passed, and need-more's `scannedUpTo` too;
/// - need-more never leaves the caller holding more than `maxHeaderBytes` unconsumed bytes of a head (the
///   connection's input buffer is bounded by the parser's answer);
/// - the framing agrees with the headers: `Content-Length` n > 0 is `.contentLength(n)`, any
///   `Transfer-Encoding` is `.transferEncoding`, and a body is taken only when it is at most the route's limit.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequestHead(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    var random = bytes.withUnsafeBytes { InputRandom(seeding: $0) }
    // Half the inputs at the server's default limit, half at a small one so 431 is reached.
    let maxHeaderBytes = random.next(below: 2) == 0 ? HTTPServerLimits().maxHeaderBytes : 1 + random.next(below: 512)
    // A third of the streams go to a route that takes no body, the others to one that takes a small or a
    // default-sized one, so 413 and bodies split across chunks are both reached.
    let bodyLimits = [0, 1 + random.next(below: 64), HTTPServerLimits().maxBodyBytes]
    let bodyLimit = bodyLimits[random.next(below: bodyLimits.count)]

    let whole = outcomes(of: [bytes[...]], maxHeaderBytes: maxHeaderBytes, bodyLimit: bodyLimit)
    let byteByByte = outcomes(of: bytes.indices.map { bytes[$0..<$0 + 1] }, maxHeaderBytes: maxHeaderBytes, bodyLimit: bodyLimit)
    let cut = random.cuts(count: bytes.count)
    let chunked = outcomes(of: chunks(bytes, at: cut), maxHeaderBytes: maxHeaderBytes, bodyLimit: bodyLimit)
    require(byteByByte == whole, "byte by byte \(byteByByte) != whole \(whole)")
    require(chunked == whole, "cut at \(cut): \(chunked) != whole \(whole)")
    return 0
}

/// What the parser said about one request of the stream, comparable across splittings.
enum Outcome: Equatable, CustomStringConvertible {
    case head(String, length: Int)
    /// The body a route that takes one got.
    case body([UInt8])
    /// A body the route does not take: answered without it, then the connection closes.
    case unreadBody
    case refused(status: Int, reason: String)
    /// The stream ended inside a head: how many unconsumed bytes wait.
    case needMore(buffered: Int)
    /// The stream ended inside a body: how many of its bytes are here.
    case needMoreBody(buffered: Int, length: Int)

    var description: String {
        switch self {
        case .head(let head, let length): "head(\(length) bytes: \(head))"
        case .body(let body): "body(\(body.count) bytes)"
        case .unreadBody: "unreadBody"
        case .refused(let status, let reason): "refused(\(status) \(reason))"
        case .needMore(let buffered): "needMore(\(buffered) buffered)"
        case .needMoreBody(let buffered, let length): "needMoreBody(\(buffered) of \(length))"
        }
    }
}

/// Feeds `chunks` in order as the connection does, to a route that takes bodies of at most `bodyLimit` bytes;
/// returns each request's outcome and, unless the stream was refused or closed, how it ended.
func outcomes(of chunks: [ArraySlice<UInt8>], maxHeaderBytes: Int, bodyLimit: Int) -> [Outcome] {
    var input: [UInt8] = []
    var inputIndex = 0
    var scan = HTTPRequestParser.HeadScan()
    var bodyLength: Int? = nil
    var result: [Outcome] = []
    for chunk in chunks {
        input.append(contentsOf: chunk)
        parsing: while inputIndex < input.count {
            let available = input.count - inputIndex
            if let length = bodyLength {
                guard available >= length else { break parsing }
                result.append(.body(Array(input[inputIndex..<inputIndex + length])))
                inputIndex += length
                bodyLength = nil
                continue
            }
            let parsed = input.withUnsafeBufferPointer {
                HTTPRequestParser.parse(
                    UnsafeBufferPointer(rebasing: $0[inputIndex...]), maxHeaderBytes: maxHeaderBytes, scan: &scan)
            }
            switch parsed {
            case .incomplete(let scanned):
                require(scanned >= 0 && scanned <= available, "scannedUpTo \(scanned) outside 0...\(available)")
                require(
                    available <= maxHeaderBytes,
                    "need-more with \(available) bytes buffered, over maxHeaderBytes \(maxHeaderBytes)")
                require(scan.scannedUpTo == scanned, "HeadScan.scannedUpTo \(scan.scannedUpTo), result \(scanned)")
                break parsing
            case .invalid(let error):
                require((400..<600).contains(error.status), "refusal with status \(error.status)")
                result.append(.refused(status: error.status, reason: error.reason))
                return result
            case .complete(let head, let length):
                require(length > 0 && length <= available, "head length \(length) outside 1...\(available)")
                result.append(.head(describe(head), length: length))
                require(scan == HTTPRequestParser.HeadScan(), "HeadScan not reset after a complete head")
                checkFraming(head)
                inputIndex += length
                switch head.bodyHandling(accepting: bodyLimit) {
                case .none:
                    continue
                case .unread:
                    require(bodyLimit == 0 && head.announcesBody, "a body left unread on a route that takes one")
                    result.append(.unreadBody)
                    return result
                case .refuse(let error):
                    require(error.status == 411 || error.status == 413, "a body refused with \(error.status)")
                    result.append(.refused(status: error.status, reason: error.reason))
                    return result
                case .read(let n):
                    require(n > 0 && n <= bodyLimit, "a body of \(n) bytes taken under a limit of \(bodyLimit)")
                    bodyLength = n
                }
            }
        }
    }
    if let length = bodyLength {
        result.append(.needMoreBody(buffered: input.count - inputIndex, length: length))
    } else if inputIndex < input.count {
        result.append(.needMore(buffered: input.count - inputIndex))
    }
    return result
}

/// The framing must say what the headers say (the parser refuses Content-Length with Transfer-Encoding, and more
/// than one Content-Length).
func checkFraming(_ head: HTTPRequestHead) {
    let lengths = head.headers.values("Content-Length")
    let encodings = head.headers.values("Transfer-Encoding")
    switch head.framing {
    case .none:
        require(encodings.isEmpty, "no framing with Transfer-Encoding \(encodings)")
        require(lengths.isEmpty || Int(lengths[0]) == 0, "no framing with Content-Length \(lengths)")
    case .contentLength(let n):
        require(encodings.isEmpty && lengths.count == 1 && Int(lengths[0]) == n && n > 0, "length \(n) from \(lengths)")
    case .transferEncoding:
        require(!encodings.isEmpty && lengths.isEmpty, "Transfer-Encoding framing from \(encodings), \(lengths)")
    }
    if head.announcesBody { require(head.method != .get && head.method != .head, "a body on \(head.method)") }
}

/// Every field of a parsed head, in one string.
func describe(_ head: HTTPRequestHead) -> String {
    let headers = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
    return "\(head.method) \(head.path) \(head.query ?? "<nil>") \(head.version) [\(headers)] keepAlive=\(head.keepAlive) framing=\(head.framing)"
}
