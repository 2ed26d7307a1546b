import Testing
@testable import TillerCheck

/// The hand-written gRPC framing and protobuf decoding: Tiller's real answer, and what a broken or hostile
/// peer might send instead.
@Suite("gRPC framing and the Version message")
struct GRPCMessageTests {
    /// `GetVersionResponse{Version{sem_ver: "v2.16.12", git_commit: "abc", git_tree_state: "clean"}}`, framed, as
    /// Tiller (and grpcio) put it on the wire.
    static let tillerAnswer: [UInt8] = {
        let version: [UInt8] = [0x0A, 8] + Array("v2.16.12".utf8) + [0x12, 3] + Array("abc".utf8) + [0x1A, 5] + Array("clean".utf8)
        let message: [UInt8] = [0x0A, UInt8(version.count)] + version
        return [0, 0, 0, 0, UInt8(message.count)] + message
    }()

    @Test("Tiller's answer gives its sem_ver")
    func decodesVersion() throws {
        #expect(try GRPCMessage.semanticVersion(fromFramedResponse: Self.tillerAnswer) == "v2.16.12")
    }

    @Test("unknown fields of every wire type before the version are skipped")
    func skipsUnknownFields() throws {
        let version: [UInt8] = [0x08, 0x96, 0x01] + [0x11] + [UInt8](repeating: 1, count: 8) + [0x1D, 1, 2, 3, 4]
            + [0x0A, 2] + Array("v2".utf8)
        let message: [UInt8] = [0x22, 1, 0x41] + [0x0A, UInt8(version.count)] + version
        let framed: [UInt8] = [0, 0, 0, 0, UInt8(message.count)] + message
        #expect(try GRPCMessage.semanticVersion(fromFramedResponse: framed) == "v2")
    }

    @Test("an empty message is an empty version (protobuf defaults)")
    func emptyMessage() throws {
        #expect(try GRPCMessage.semanticVersion(fromFramedResponse: GRPCMessage.emptyRequest) == "")
    }

    @Test("broken answers are refused with the reason", arguments: [
        ([0, 0, 0] as [UInt8], "holds no gRPC message"),
        ([1, 0, 0, 0, 0], "compressed"),
        ([0, 0, 0, 0, 9, 0x0A, 1], "says 9 bytes but 2 arrived"),
        ([0, 0, 0, 0, 2, 0x0A, 5], "runs past the message"),
        ([0, 0, 0, 0, 1, 0x0F], "wire type 7"),
        ([0, 0, 0, 0, 2, 0x08, 0x80], "varint is cut off"),
        ([0, 0, 0, 0, 5, 0x0A, 0x80, 0x80, 0x80, 0x80], "varint is cut off"),
    ])
    func refusesBrokenAnswers(body: [UInt8], reason: String) {
        #expect {
            _ = try GRPCMessage.semanticVersion(fromFramedResponse: body)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("a huge declared field length is refused, not trusted")
    func hugeLength() {
        let message: [UInt8] = [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        let framed: [UInt8] = [0, 0, 0, 0, UInt8(message.count)] + message
        #expect(throws: GRPCMessage.DecodingError.self) { try GRPCMessage.semanticVersion(fromFramedResponse: framed) }
    }
}
