import Testing
import TestSupport

/// How the chart exposes the service beyond the cluster: an Ingress that speaks TLS to the backend and routes only
/// `/v1`, or Istio (Kyma 1.x) with a VirtualService or a Kyma APIRule and a DestinationRule with TLS to the pod.
@Suite struct ChartExposureTests {
    static let istioAPIs = ["networking.istio.io/v1beta1"]

    @Test(arguments: kubeVersions)
    func ingressSpeaksTLSToTheBackendAndExposesOnlyV1ByDefault(kubeVersion: String) throws {
        let rendered = try RenderedChart(kubeVersion: kubeVersion, set: ["ingress.enabled=true"])
        let ingress = try #require(rendered.only("Ingress"))
        #expect(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"].string == "HTTPS")
        let paths = ingress["spec"]["rules"][0]["http"]["paths"].array
        #expect(paths.compactMap { $0["path"].string } == ["/v1"], "/metrics and /openapi.yaml stay inside")
    }

    @Test func ingressAnnotationsFromValuesWinOverTheChartsAndAreKept() throws {
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: [
            "ingress.enabled=true", "ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/backend-protocol=GRPCS",
            "ingress.annotations.example\\.com/x=y"])
        let annotations = try #require(rendered.only("Ingress"))["metadata"]["annotations"]
        #expect(annotations["nginx.ingress.kubernetes.io/backend-protocol"].string == "GRPCS")
        #expect(annotations["example.com/x"].string == "y")
    }

    @Test func istioObjectsAreLeftOutWhereTheClusterHasNoIstio() throws {
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: ["istio.enabled=true"])
        #expect(rendered.objects(ofKind: "VirtualService").isEmpty && rendered.objects(ofKind: "DestinationRule").isEmpty)
        #expect(try ChartNotesTests.renderNotes(set: ["istio.enabled=true"]).contains("networking.istio.io"),
                "NOTES says why nothing was rendered")
    }

    @Test(arguments: [("networking.istio.io/v1beta1", "networking.istio.io/v1beta1"), ("networking.istio.io/v1alpha3", "networking.istio.io/v1alpha3")])
    func virtualServiceRoutesV1ToTheServiceAndTheDestinationRuleSpeaksTLS(api: String, expected: String) throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: "1.30.0", apiVersions: [api])
        let service = "\(RenderedChart.fullname).\(RenderedChart.namespace).svc"
        let virtualService = try #require(rendered.only("VirtualService"))
        #expect(virtualService["apiVersion"].string == expected)
        #expect(virtualService["spec"]["hosts"].strings == ["helm-certs.kyma.example.com"])
        #expect(virtualService["spec"]["gateways"].strings == ["kyma-system/kyma-gateway"])
        let route = virtualService["spec"]["http"][0]
        #expect(route["match"].array.compactMap { $0["uri"]["prefix"].string } == ["/v1"])
        #expect(route["route"][0]["destination"]["host"].string == "\(service).cluster.local")
        #expect(route["route"][0]["destination"]["port"]["number"].int == 8443)
        let destination = try #require(rendered.only("DestinationRule"))
        #expect(destination["spec"]["host"].string == "\(service).cluster.local")
        #expect(destination["spec"]["trafficPolicy"]["tls"]["mode"].string == "SIMPLE")
        #expect(destination["spec"]["trafficPolicy"]["tls"]["sni"].string == service, "a name the serving certificate holds")
        #expect(destination["spec"]["exportTo"].strings == ["istio-system"], "in-mesh HTTPS clients are not wrapped twice")
        #expect(rendered.objects(ofKind: "APIRule").isEmpty)
    }

    @Test func apiRuleReplacesTheVirtualServiceWhereKymaServesIt() throws {
        let set = ["istio.enabled=true", "istio.apiRule=true", "istio.host=helm-certs.kyma.example.com"]
        let without = try RenderedChart(kubeVersion: "1.30.0", set: set, apiVersions: Self.istioAPIs)
        #expect(without.objects(ofKind: "APIRule").isEmpty, "no gateway.kyma-project.io/v1alpha1: no APIRule")
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: set, apiVersions: Self.istioAPIs + ["gateway.kyma-project.io/v1alpha1"])
        #expect(rendered.objects(ofKind: "VirtualService").isEmpty)
        let rule = try #require(rendered.only("APIRule"))
        #expect(rule["spec"]["gateway"].string == "kyma-gateway.kyma-system.svc.cluster.local")
        #expect(rule["spec"]["service"]["name"].string == RenderedChart.fullname)
        #expect(rule["spec"]["service"]["port"].int == 443)
        #expect(rule["spec"]["rules"].array.compactMap { $0["path"].string } == ["/v1(/.*)?"])
        #expect(rule["spec"]["rules"][0]["methods"].strings == ["GET", "HEAD"])
        #expect(rendered.only("DestinationRule")?["spec"]["trafficPolicy"]["tls"]["mode"].string == "SIMPLE")
    }
}
