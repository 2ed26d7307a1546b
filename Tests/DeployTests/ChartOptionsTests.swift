import Foundation
import Testing
import TestSupport

/// The chart's options: replicas, API versions picked by cluster version, Ingress, NetworkPolicy, overrides,
/// and where the serving certificate and tokens come from.
@Suite struct ChartOptionsTests {
    @Test(arguments: kubeVersions)
    func oneReplicaHasNoDisruptionBudgetAndNoAntiAffinity(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        #expect(rendered.objects(ofKind: "PodDisruptionBudget").isEmpty)
        #expect(try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["affinity"].isNull)
    }

    @Test(arguments: [("1.16.0", "policy/v1beta1"), ("1.30.0", "policy/v1")])
    func moreReplicasGetADisruptionBudgetOfTheClustersVersionAndAntiAffinity(kubeVersion: String, apiVersion: String) throws {
        let rendered = try RenderedChart(kubeVersion: kubeVersion, set: ["replicaCount=3"])
        let deployment = try #require(rendered.only("Deployment"))
        #expect(deployment["spec"]["replicas"].int == 3)
        let budget = try #require(rendered.only("PodDisruptionBudget"))
        #expect(budget["apiVersion"].string == apiVersion)
        #expect(budget["spec"]["minAvailable"].int == 1)
        #expect(budget["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"])
        let antiAffinity = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
        let term = antiAffinity["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
        #expect(term["topologyKey"].string == "kubernetes.io/hostname")
        #expect(term["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"])
    }

    @Test(arguments: [("1.16.0", "networking.k8s.io/v1beta1"), ("1.30.0", "networking.k8s.io/v1")])
    func ingressUsesTheClustersAPIVersionAndReachesTheService(kubeVersion: String, apiVersion: String) throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: kubeVersion)
        let ingress = try #require(rendered.only("Ingress"))
        #expect(ingress["apiVersion"].string == apiVersion)
        #expect(ingress["spec"]["rules"][0]["host"].string == "helm-certs.example.com")
        #expect(ingress["spec"]["tls"][0]["secretName"].string == "helm-certs-example-com")
        #expect(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"].string == "HTTPS")
        let backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]
        if apiVersion == "networking.k8s.io/v1" {
            #expect(ingress["spec"]["ingressClassName"].string == "nginx")
            #expect(backend["service"]["name"].string == RenderedChart.fullname)
            #expect(backend["service"]["port"]["name"].string == "https")
        } else {
            #expect(ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"].string == "nginx")
            #expect(backend["serviceName"].string == RenderedChart.fullname)
            #expect(backend["servicePort"].string == "https")
        }
    }

    @Test(arguments: kubeVersions)
    func ingressAndNetworkPolicyAreOffByDefault(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        #expect(rendered.objects(ofKind: "Ingress").isEmpty)
        #expect(rendered.objects(ofKind: "NetworkPolicy").isEmpty)
        #expect(try #require(rendered.only("Service"))["spec"]["type"].string == "ClusterIP")
    }

    @Test(arguments: kubeVersions)
    func networkPolicyAdmitsOnlyTheListedPeersToTheServicePort(kubeVersion: String) throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: kubeVersion)
        let policy = try #require(rendered.only("NetworkPolicy"))
        let deployment = try #require(rendered.only("Deployment"))
        #expect(policy["spec"]["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"])
        #expect(policy["spec"]["policyTypes"].strings == ["Ingress"])
        let rule = policy["spec"]["ingress"][0]
        #expect(rule["ports"][0]["port"].int == 8443)
        #expect(rule["from"].array.count == 2)
        #expect(rule["from"][1]["podSelector"]["matchLabels"]["app"].string == "helm-client")
        // No Egress policy type: the pod still reaches the API server and Tiller (tiller.address).
        #expect(!policy["spec"]["policyTypes"].strings.contains("Egress"))
    }

    @Test(arguments: kubeVersions)
    func tillerIsCheckedAtKymasAddressByDefault(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        let args = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(args.contains("--tiller-address=tiller-deploy.kube-system:44134"))
        #expect(args.contains("--tiller-check-interval=5m"))
    }

    @Test(arguments: kubeVersions)
    func tillerAddressAndIntervalAreOverridableAndAnEmptyAddressTurnsTheCheckOff(kubeVersion: String) throws {
        let options = try ChartValues.allOptions.render(kubeVersion: kubeVersion)
        let args = try #require(options.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(args.contains("--tiller-address=tiller.kyma-system.svc.cluster.local:44134"))
        #expect(args.contains("--tiller-check-interval=10m"))
        let off = try RenderedChart(kubeVersion: kubeVersion, set: ["tiller.address="])
        let offArgs = try #require(off.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(!offArgs.contains { $0.hasPrefix("--tiller") })
    }

    @Test(arguments: kubeVersions)
    func imageSchedulingAndAnnotationsAreOverridable(kubeVersion: String) throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: kubeVersion)
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]
        let container = pod["spec"]["containers"][0]
        #expect(container["image"].string == "registry.example.com/kyma/helm-cert-server:1.2.3")
        #expect(container["imagePullPolicy"].string == "Always")
        #expect(pod["spec"]["imagePullSecrets"][0]["name"].string == "registry-credentials")
        #expect(pod["spec"]["nodeSelector"]["kubernetes.io/os"].string == "linux")
        #expect(pod["spec"]["tolerations"][0]["key"].string == "dedicated")
        #expect(pod["metadata"]["annotations"]["prometheus.io/scrape"].string == "true")
        #expect(container["args"].strings.contains("--log-level=debug"))
        #expect(container["args"].strings.contains("--max-connections=800"))
        #expect(container["args"].strings.contains("--max-connections-per-client=32"))
        #expect(try #require(rendered.only("Service"))["spec"]["ports"][0]["port"].int == 8443)
    }

    @Test(arguments: kubeVersions)
    func defaultImageIsTheChartsAppVersion(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        let container = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]
        let chart = try String(contentsOfFile: "\(packageRoot)/chart/Chart.yaml", encoding: .utf8)
        let appVersion = try #require(chart.split(separator: "\n").first { $0.hasPrefix("appVersion:") })
            .split(separator: ":")[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        #expect(container["image"].string == "\(ChartValues.imageRepository):\(appVersion)")
        #expect(container["imagePullPolicy"].string == "IfNotPresent")
    }

    /// Generated at install: a pre-install hook (not rendered again on upgrade) that uninstall leaves in place and
    /// that a later install replaces (before-hook-creation), as README "Generated Secrets" says.
    @Test(arguments: kubeVersions)
    func generatedCertificateAndTokenSecretsAreKeptPreInstallHooksThatAReinstallReplaces(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        for name in ["\(RenderedChart.fullname)-tls", "\(RenderedChart.fullname)-tokens"] {
            let secret = try #require(rendered.object("Secret", named: name))
            let annotations = secret["metadata"]["annotations"]
            #expect(annotations["helm.sh/hook"].string == "pre-install", "\(name)")
            #expect(annotations["helm.sh/resource-policy"].string == "keep", "\(name)")
            #expect(annotations["helm.sh/hook-delete-policy"].string == "before-hook-creation", "\(name)")
        }
        let tokens = try #require(rendered.object("Secret", named: "\(RenderedChart.fullname)-tokens"))
        let csv = try #require(Data(base64Encoded: tokens["data"]["tokens.csv"].string ?? ""))
        let fields = String(decoding: csv, as: UTF8.self).trimmingCharacters(in: .newlines).split(separator: ",")
        #expect(fields.count == 3)
        #expect(fields.first?.count == 40 && fields.first?.allSatisfy { $0.isLetter || $0.isNumber } == true)
        #expect(fields.dropFirst().map(String.init) == ["helm-client", "helm-client"])
    }

    @Test(arguments: kubeVersions)
    func tokensFromValuesAreAnOrdinarySecretInTokenFileFormat(kubeVersion: String) throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: kubeVersion)
        let tokens = try #require(rendered.object("Secret", named: "\(RenderedChart.fullname)-tokens"))
        #expect(tokens["metadata"]["annotations"]["helm.sh/hook"].isNull, "values-given tokens follow upgrades")
        let csv = try #require(Data(base64Encoded: tokens["data"]["tokens.csv"].string ?? ""))
        #expect(String(decoding: csv, as: UTF8.self) == """
            0123456789abcdef0123456789abcdef,alice,1001,"helm-admins,kyma-operators"
            fedcba9876543210fedcba9876543210,ci-pipeline,ci-pipeline

            """)
    }

    @Test(arguments: kubeVersions)
    func existingSecretsAreMountedAndNothingIsGenerated(kubeVersion: String) throws {
        let rendered = try ChartValues.existingSecrets.render(kubeVersion: kubeVersion)
        #expect(rendered.objects(ofKind: "Secret").isEmpty)
        let volumes = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["volumes"].array
        let secretNames = Dictionary(uniqueKeysWithValues: volumes.compactMap { volume in
            volume["secret"]["secretName"].string.map { (volume["name"].string ?? "", $0) }
        })
        #expect(secretNames == ["tls": "helm-cert-server-serving-cert", "tokens": "helm-cert-server-tokens"])
    }

    @Test func anUnknownKeyAlgorithmIsRefused() throws {
        #expect(throws: CommandFailedError.self) {
            try RenderedChart(kubeVersion: "1.30.0", set: ["tls.keyAlgorithm=dsa"])
        }
    }
}
