/// The part of a Kubernetes object's `metadata` this client reads.
public struct ObjectMeta: Codable, Sendable, Equatable {
    /// The object's name, unique within its namespace.
    public var name: String?
    /// The namespace the object lives in.
    public var namespace: String?
    /// Opaque version string; a watch resumes after it.
    public var resourceVersion: String?
    /// The object's unique id across its lifetime (a re-created object gets a new one).
    public var uid: String?

    /// Creates metadata; every field may be absent, as in the API.
    public init(name: String? = nil, namespace: String? = nil, resourceVersion: String? = nil, uid: String? = nil) {
        self.name = name
        self.namespace = namespace
        self.resourceVersion = resourceVersion
        self.uid = uid
    }
}
