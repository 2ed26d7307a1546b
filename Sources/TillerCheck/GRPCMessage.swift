/// The little of gRPC and protobuf the Tiller check needs, by hand: one unary call whose answer is three
/// strings is not worth a code generator and a runtime library.
///
/// A gRPC message on the wire is 1 flag byte (0: not compressed) + a 4-byte big-endian length + the protobuf.
enum GRPCMessage {
    /// The most response body read: `GetVersionResponse` is three short strings; anything longer is not Tiller.
    static let maximumResponseBytes = 64 * 1024

    /// `GetVersionRequest {}`: an empty protobuf message, framed.
    static let emptyRequest: [UInt8] = [0, 0, 0, 0, 0]

    /// Why a response body is not a `GetVersionResponse`.
    struct DecodingError: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// The `sem_ver` of a framed `GetVersionResponse { Version Version = 1 }`, `Version { string sem_ver = 1; … }`.
    static func semanticVersion(fromFramedResponse body: [UInt8]) throws(DecodingError) -> String {
        guard body.count >= 5 else { throw DecodingError(description: "the answer holds no gRPC message (\(body.count) bytes)") }
        guard body[0] == 0 else { throw DecodingError(description: "the answer is compressed (flag \(body[0])), which was not asked for") }
        let length = body[1...4].reduce(0) { $0 << 8 | Int($1) }
        guard length == body.count - 5 else {
            throw DecodingError(description: "the gRPC frame says \(length) bytes but \(body.count - 5) arrived")
        }
        let message = Array(body[5...])
        // An absent field is its default: an empty Version, an empty sem_ver.
        guard let version = try field(1, in: message) else { return "" }
        guard let semVer = try field(1, in: version) else { return "" }
        return String(decoding: semVer, as: UTF8.self)
    }

    /// The last length-delimited field `number` in `message` (protobuf: the last one wins), skipping others.
    static func field(_ number: Int, in message: [UInt8]) throws(DecodingError) -> [UInt8]? {
        var index = 0
        var found: [UInt8]? = nil
        while index < message.count {
            let tag = try varint(message, &index)
            let wireType = tag & 7
            switch wireType {
            case 0: _ = try varint(message, &index)
            case 1: index += 8
            case 5: index += 4
            case 2:
                let length = try varint(message, &index)
                guard length <= message.count - index else { throw DecodingError(description: "a protobuf field runs past the message") }
                if tag >> 3 == number { found = Array(message[index..<index + length]) }
                index += length
            default: throw DecodingError(description: "protobuf wire type \(wireType) is not known")
            }
            guard index <= message.count else { throw DecodingError(description: "a protobuf field runs past the message") }
        }
        return found
    }

    private static func varint(_ bytes: [UInt8], _ index: inout Int) throws(DecodingError) -> Int {
        var value = 0
        var shift = 0
        while index < bytes.count && shift < 63 {
            let byte = bytes[index]
            index += 1
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw DecodingError(description: "a protobuf varint is cut off or too long")
    }
}
