/// The sets of values the chart is rendered with in the deploy checks.
enum ChartValues: String, CaseIterable, Sendable {
    /// `values.yaml` alone.
    case defaults
    /// `chart/ci/all-options-values.yaml`: every option switched on.
    case allOptions
    /// `chart/ci/existing-secrets-values.yaml`: serving certificate and tokens from existing Secrets.
    case existingSecrets
    /// Defaults, but an RSA serving certificate (what Helm 2 and Helm < 3.5 always generate).
    case rsaCertificate

    var valuesFiles: [String] {
        switch self {
        case .defaults, .rsaCertificate: []
        case .allOptions: ["ci/all-options-values.yaml"]
        case .existingSecrets: ["ci/existing-secrets-values.yaml"]
        }
    }

    var set: [String] { self == .rsaCertificate ? ["tls.keyAlgorithm=rsa"] : [] }

    func render(kubeVersion: String) throws -> RenderedChart {
        try RenderedChart(kubeVersion: kubeVersion, valuesFiles: valuesFiles, set: set)
    }
}

/// The Kubernetes versions the chart is rendered for: Kyma 1.x's era and today's.
let kubeVersions = ["1.16.0", "1.30.0"]

