import Foundation
import TestSupport

/// What `helm template` made of `chart/` for one Kubernetes version and set of values, as YAML and as objects.
struct RenderedChart: Sendable {
    /// The release name and namespace every rendering uses.
    static let release = "certs"
    static let namespace = "kyma-system"

    /// `helm template`'s output.
    let yaml: String
    /// The rendered objects, parsed from `yaml` by PyYAML (as JSON).
    let objects: [JSONValue]
    let kubeVersion: String

    /// Renders the chart.
    /// - Parameters:
    ///   - kubeVersion: the `--kube-version` to render for, e.g. `1.16.0`.
    ///   - valuesFiles: paths under `chart/`, e.g. `ci/all-options-values.yaml`.
    ///   - set: `--set` assignments, e.g. `["replicaCount=3"]`; `image.repository` (required) is set unless given.
    ///   - apiVersions: APIs the cluster is said to serve beyond the built-in ones, e.g. `monitoring.coreos.com/v1`.
    init(kubeVersion: String, valuesFiles: [String] = [], set: [String] = [], apiVersions: [String] = []) throws {
        var arguments = ["template", Self.release, "chart", "--namespace", Self.namespace, "--kube-version", kubeVersion]
        if valuesFiles.isEmpty && !set.contains(where: { $0.hasPrefix("image.repository=") }) {
            arguments += ["--set", "image.repository=\(ChartValues.imageRepository)"]
        }
        for file in valuesFiles { arguments += ["--values", "chart/\(file)"] }
        for assignment in set { arguments += ["--set", assignment] }
        for api in apiVersions { arguments += ["--api-versions", api] }
        yaml = try DeployTool.helm.run(arguments).succeeded("helm \(arguments.joined(separator: " "))").stdoutText
        let toJSON = "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)"
        let json = try DeployTool.python.run(["-c", toJSON], stdin: Array(yaml.utf8)).succeeded("yaml to json")
        objects = try JSONValue.parse(json.stdout).array
        self.kubeVersion = kubeVersion
    }

    /// Every object of a kind, e.g. `objects(ofKind: "Role")`.
    func objects(ofKind kind: String) -> [JSONValue] { objects.filter { $0["kind"].string == kind } }

    /// The only object of a kind, or nil when there is none or more than one.
    func only(_ kind: String) -> JSONValue? {
        let found = objects(ofKind: kind)
        return found.count == 1 ? found[0] : nil
    }

    /// The object of a kind with a name.
    func object(_ kind: String, named name: String) -> JSONValue? {
        objects(ofKind: kind).first { $0["metadata"]["name"].string == name }
    }

    /// The name the chart gives the release's objects (`<release>-helm-cert-server`).
    static var fullname: String { "\(release)-helm-cert-server" }
}
