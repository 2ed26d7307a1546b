/// The sets of values the chart is rendered with in the deploy checks.
enum ChartValues: String, CaseIterable, Sendable {
    /// `values.yaml` with only the one required value, `image.repository`, set.
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

    /// The image repository the renderings without a values file set (there is no default: no public image exists).
    static let imageRepository = "registry.example.com/kyma/helm-cert-server"

    var set: [String] {
        switch self {
        case .defaults: ["image.repository=\(Self.imageRepository)"]
        case .rsaCertificate: ["image.repository=\(Self.imageRepository)", "tls.keyAlgorithm=rsa"]
        case .allOptions, .existingSecrets: []
        }
    }

    func render(kubeVersion: String, apiVersions: [String] = []) throws -> RenderedChart {
        try RenderedChart(kubeVersion: kubeVersion, valuesFiles: valuesFiles, set: set, apiVersions: apiVersions)
    }
}

/// The Kubernetes versions the chart is rendered for: Kyma 1.x's era and today's.
let kubeVersions = ["1.16.0", "1.30.0"]

