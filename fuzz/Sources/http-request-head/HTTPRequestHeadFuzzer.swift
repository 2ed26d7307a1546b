import FuzzSupport
@testable import HTTPServer

/// The HTTP request head parser, fed a byte stream the way `HTTPConnection` feeds it: parse at the start of the
/// unconsumed bytes; a complete head is consumed and parsing goes on (pipelining); a refusal ends the stream;
/// need-more waits for the next chunk and resumes where it stopped (`HeadScan`).
///
/// Properties beyond "no crash":
/// - the stream gives the same outcomes whether it arrives whole, one byte at a time, or in chunks cut at
///   points drawn from the input;
/// - a complete head's length is inside the bytes passed, and need-more's `scannedUpTo` too;
/// - need-more never leaves the caller holding more than `maxHeaderBytes` unconsumed bytes (the connection's
///   input buffer is bounded by the parser's answer).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequestHead(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    var random = bytes.withUnsafeBytes { InputRandom(seeding: $0) }
    // Half the inputs at the server's default limit, half at a small one so 431 is reached.
    let maxHeaderBytes = random.next(below: 2) == 0 ? HTTPServerLimits().maxHeaderBytes : 1 + random.next(below: 512)

    let whole = outcomes(of: [bytes[...]], maxHeaderBytes: maxHeaderBytes)
    let byteByByte = outcomes(of: bytes.indices.map { bytes[$0..<$0 + 1] }, maxHeaderBytes: maxHeaderBytes)
    let cut = random.cuts(count: bytes.count)
    let chunked = outcomes(of: chunks(bytes, at: cut), maxHeaderBytes: maxHeaderBytes)
    require(byteByByte == whole, "byte by byte \(byteByByte) != whole \(whole)")
    require(chunked == whole, "cut at \(cut): \(chunked) != whole \(whole)")
    return 0
}

/// What the parser said about one request of the stream, comparable across splittings.
enum Outcome: Equatable, CustomStringConvertible {
    case head(String, length: Int)
    case refused(status: Int, reason: String)
    /// The stream ended inside a head: how many unconsumed bytes wait.
    case needMore(buffered: Int)

    var description: String {
        switch self {
        case .head(let head, let length): "head(\(length) bytes: \(head))"
        case .refused(let status, let reason): "refused(\(status) \(reason))"
        case .needMore(let buffered): "needMore(\(buffered) buffered)"
        }
    }
}

/// Feeds `chunks` in order as the connection does; returns each request's outcome and, unless the stream was
/// refused, how it ended.
func outcomes(of chunks: [ArraySlice<UInt8>], maxHeaderBytes: Int) -> [Outcome] {
    var input: [UInt8] = []
    var inputIndex = 0
    var scan = HTTPRequestParser.HeadScan()
    var result: [Outcome] = []
    for chunk in chunks {
        input.append(contentsOf: chunk)
        parsing: while inputIndex < input.count {
            let parsed = input.withUnsafeBufferPointer {
                HTTPRequestParser.parse(
                    UnsafeBufferPointer(rebasing: $0[inputIndex...]), maxHeaderBytes: maxHeaderBytes, scan: &scan)
            }
            let available = input.count - inputIndex
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
                inputIndex += length
            }
        }
    }
    if inputIndex < input.count { result.append(.needMore(buffered: input.count - inputIndex)) }
    return result
}

/// Every field of a parsed head, in one string.
func describe(_ head: HTTPRequestHead) -> String {
    let headers = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
    return "\(head.method) \(head.path) \(head.query ?? "<nil>") \(head.version) [\(headers)] keepAlive=\(head.keepAlive) body=\(head.announcesBody)"
}
