import Testing

/// The pod runs hardened: non-root numeric user, read-only root, no privilege escalation, no capabilities,
/// RuntimeDefault seccomp, resource requests and limits, HTTPS probes, read-only secret mounts.
@Suite struct ChartHardeningTests {
    @Test(arguments: ChartValues.allCases, kubeVersions)
    func podAndContainerAreHardened(values: ChartValues, kubeVersion: String) throws {
        let rendered = try values.render(kubeVersion: kubeVersion)
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]
        let podSecurity = pod["spec"]["securityContext"]
        #expect(podSecurity["runAsNonRoot"].bool == true)
        let user = try #require(podSecurity["runAsUser"].int)
        #expect(user > 0)
        let containers = pod["spec"]["containers"].array
        #expect(containers.count == 1)
        let security = containers[0]["securityContext"]
        #expect(security["runAsNonRoot"].bool == true)
        #expect(security["runAsUser"].int == user)
        #expect(security["readOnlyRootFilesystem"].bool == true)
        #expect(security["allowPrivilegeEscalation"].bool == false)
        #expect(security["privileged"].bool == false)
        #expect(security["capabilities"]["drop"].strings == ["ALL"])
        #expect(security["capabilities"]["add"].isNull)
    }

    /// A checksum of the token values would be a hash of the plain tokens, readable by anyone who can read pods;
    /// the server re-reads the mounted token file every 2 s instead.
    @Test(arguments: ChartValues.allCases, kubeVersions)
    func podCarriesNoChecksumOfTheTokens(values: ChartValues, kubeVersion: String) throws {
        let rendered = try values.render(kubeVersion: kubeVersion)
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]
        let annotations = pod["metadata"]["annotations"].keys
        #expect(!annotations.contains { $0.hasPrefix("checksum/") }, "\(annotations)")
    }

    @Test(arguments: ChartValues.allCases, kubeVersions)
    func seccompIsRuntimeDefaultAsTheClusterVersionSpellsIt(values: ChartValues, kubeVersion: String) throws {
        let rendered = try values.render(kubeVersion: kubeVersion)
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]
        if kubeVersion == "1.16.0" {
            // No seccompProfile field before 1.19: the alpha annotation instead.
            #expect(pod["metadata"]["annotations"]["seccomp.security.alpha.kubernetes.io/pod"].string == "runtime/default")
            #expect(pod["spec"]["securityContext"]["seccompProfile"].isNull)
        } else {
            #expect(pod["spec"]["securityContext"]["seccompProfile"]["type"].string == "RuntimeDefault")
            #expect(pod["spec"]["containers"][0]["securityContext"]["seccompProfile"]["type"].string == "RuntimeDefault")
        }
    }

    /// README, "Bounded resources": the most one connection can hold, and what the process needs besides.
    static let worstCaseConnectionKiB = 200
    static let processBaseMiB = 24

    @Test("the chart's defaults keep maxConnections x the most a connection holds under the memory limit")
    func connectionMemoryFitsTheLimit() throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersions[0])
        let container = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]
        let arguments = container["args"].strings
        let flag = try #require(arguments.first { $0.hasPrefix("--max-connections=") })
        let connections = try #require(Int(flag.dropFirst("--max-connections=".count)))
        let limit = try #require(container["resources"]["limits"]["memory"].string)
        #expect(limit.hasSuffix("Mi"))
        let limitMiB = try #require(Int(limit.dropLast(2)))
        let worstMiB = connections * Self.worstCaseConnectionKiB / 1024 + Self.processBaseMiB
        #expect(worstMiB <= limitMiB - limitMiB / 5, "\(connections) connections may hold \(worstMiB) MiB, too close to \(limit)")
        // One address gets a small share of the connections: at most 1/8 of them (32 of 400).
        let perClientFlag = try #require(arguments.first { $0.hasPrefix("--max-connections-per-client=") })
        let perClient = try #require(Int(perClientFlag.dropFirst("--max-connections-per-client=".count)))
        #expect(perClient == 32)
        #expect(perClient * 8 <= connections, "one address may take \(perClient) of \(connections) connections")
    }

    @Test(arguments: ChartValues.allCases, kubeVersions)
    func containerHasResourcesProbesAndReadOnlySecretMounts(values: ChartValues, kubeVersion: String) throws {
        let rendered = try values.render(kubeVersion: kubeVersion)
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]
        let container = pod["containers"][0]
        for kind in ["requests", "limits"] {
            #expect(container["resources"][kind]["cpu"].string != nil, "resources.\(kind).cpu")
            #expect(container["resources"][kind]["memory"].string != nil, "resources.\(kind).memory")
        }
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            #expect(container[probe]["httpGet"]["path"].string == path)
            #expect(container[probe]["httpGet"]["scheme"].string == "HTTPS")
            #expect(container[probe]["httpGet"]["port"].string == "https")
        }
        #expect(container["ports"][0]["containerPort"].int == 8443)
        let secretVolumes = pod["volumes"].array.filter { !$0["secret"].isNull }.compactMap { $0["name"].string }
        #expect(Set(secretVolumes) == ["tls", "tokens"])
        for mount in container["volumeMounts"].array where secretVolumes.contains(mount["name"].string ?? "") {
            #expect(mount["readOnly"].bool == true, "\(mount["name"]) is mounted read-only")
        }
    }

    @Test(arguments: kubeVersions)
    func onlyThePodMountsTheServiceAccountToken(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        #expect(try #require(rendered.only("ServiceAccount"))["automountServiceAccountToken"].bool == false)
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]
        #expect(pod["automountServiceAccountToken"].bool == true, "the pod reads the Secret through the API")
        #expect(pod["serviceAccountName"].string == RenderedChart.fullname)
    }

    @Test(arguments: kubeVersions)
    func containerServesTLSWithTheMountedCertificateAndTokens(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]
        let arguments = pod["containers"][0]["args"].strings
        #expect(arguments.contains("--listen=0.0.0.0:8443"))
        #expect(arguments.contains("--tls-cert=/etc/helm-cert-server/tls/tls.crt"))
        #expect(arguments.contains("--tls-key=/etc/helm-cert-server/tls/tls.key"))
        #expect(arguments.contains("--token-file=/etc/helm-cert-server/tokens/tokens.csv"))
        #expect(arguments.contains("--source=kubernetes"))
        #expect(!arguments.contains("--insecure-http") && !arguments.contains("--dev"))
    }
}
