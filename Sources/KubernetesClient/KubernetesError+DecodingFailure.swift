extension KubernetesError {
    /// An answer (or a request) that did not have the expected shape, naming what was decoded and the field.
    public struct DecodingFailure: Sendable, Equatable, CustomStringConvertible {
        /// What was being decoded or encoded: `secret NS/NAME`, `secret list of NS`, `TokenReview answer`,
        /// `watch event`.
        public var object: String
        /// The field at fault as a dotted path (`metadata.resourceVersion`, `type`), when known.
        public var field: String?
        /// What was wrong with it.
        public var problem: String

        /// - Parameters:
        ///   - object: what was being decoded.
        ///   - field: the dotted path of the field at fault, if known.
        ///   - problem: what was wrong.
        public init(object: String, field: String? = nil, problem: String) {
            self.object = object
            self.field = field
            self.problem = problem
        }

        /// What `error` (thrown by a `Decoder`) says about `object`: the field from its coding path and its
        /// own words, without the whole coding context Swift prints by default.
        init(object: String, error: any Error) {
            func path(_ keys: [any CodingKey]) -> String? {
                keys.isEmpty ? nil : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            }
            switch error {
            case DecodingError.keyNotFound(let key, let context):
                self.init(object: object, field: path(context.codingPath + [key]), problem: "is missing")
            case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
                 DecodingError.dataCorrupted(let context):
                self.init(object: object, field: path(context.codingPath), problem: context.debugDescription)
            default:
                self.init(object: object, problem: "\(error)")
            }
        }

        /// `"<object> field <field>: <problem>"`, or without the field when none is known.
        public var description: String {
            "\(object)\(field.map { " field \($0)" } ?? ""): \(problem)"
        }
    }
}
