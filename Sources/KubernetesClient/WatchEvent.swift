import FoundationEssentials

/// One event of a Secret watch stream: `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{…}}`.
enum WatchEvent: Sendable, Equatable {
    case added(Secret)
    case modified(Secret)
    case deleted(Secret)
    /// Only advances the resourceVersion; the object carries nothing else of interest.
    case bookmark(resourceVersion: String)
    /// The object is a `Status`; code 410 (`Expired`/`Gone`) means the resourceVersion is too old.
    case error(Status)

    /// Decodes one line of the stream.
    static func decode(line: some Collection<UInt8>) throws(KubernetesError) -> WatchEvent {
        do {
            return try JSONDecoder().decode(WireEvent.self, from: Data(line)).event
        } catch let error as KubernetesError {
            throw error
        } catch {
            throw .decoding(.init(object: "watch event", error: error))
        }
    }

    private struct WireEvent: Decodable {
        var event: WatchEvent
        enum CodingKeys: String, CodingKey { case type, object }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let type = try container.decode(String.self, forKey: .type)
            switch type {
            case "ADDED": event = .added(try container.decode(Secret.self, forKey: .object))
            case "MODIFIED": event = .modified(try container.decode(Secret.self, forKey: .object))
            case "DELETED": event = .deleted(try container.decode(Secret.self, forKey: .object))
            case "BOOKMARK":
                let object = try container.decode(Secret.self, forKey: .object)
                event = .bookmark(resourceVersion: object.metadata.resourceVersion ?? "")
            case "ERROR": event = .error(try container.decode(Status.self, forKey: .object))
            default: throw KubernetesError.decoding(.init(object: "watch event", field: "type", problem: "unknown type \(type)"))
            }
        }
    }
}
