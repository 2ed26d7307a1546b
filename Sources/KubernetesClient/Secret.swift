/// A core/v1 `Secret` as the API returns it. `data` values are padded standard base64, as on the wire.
public struct Secret: Codable, Sendable, Equatable {
    /// Name, namespace, resourceVersion, uid.
    public var metadata: ObjectMeta
    /// Key → base64 of the value. Absent when the secret has no data.
    public var data: [String: String]?
    /// e.g. `Opaque`, `kubernetes.io/tls`.
    public var type: String?

    /// Creates a secret value.
    public init(metadata: ObjectMeta, data: [String: String]? = nil, type: String? = nil) {
        self.metadata = metadata
        self.data = data
        self.type = type
    }
}

/// A `SecretList` (only what LIST needs: the items and the list's resourceVersion).
struct SecretList: Decodable, Sendable {
    struct ListMeta: Decodable, Sendable { var resourceVersion: String? }
    var metadata: ListMeta
    var items: [Secret]?
}
