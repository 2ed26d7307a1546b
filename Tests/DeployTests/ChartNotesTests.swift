import Foundation
import Testing
import TestSupport

/// NOTES.txt (what `helm install` prints) tells how to read the token and the CA and fetch the bundle, with the
/// names of the objects the chart really renders. `helm template` skips NOTES.txt, so a copy of the chart gets a
/// probe template that includes it into a ConfigMap.
@Suite struct ChartNotesTests {
    static func renderNotes(set: [String] = []) throws -> String {
        let directory = try TemporaryDirectory("deploy-notes")
        defer { directory.remove() }
        try runCommand(["cp", "-R", "\(packageRoot)/chart", directory.file("chart")]).succeeded("copy chart")
        try directory.write("chart/templates/zz-notes-probe.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: notes-probe
            data:
              NOTES.txt: {{ include "helm-cert-server/templates/NOTES.txt" . | quote }}

            """)
        var arguments = ["template", RenderedChart.release, directory.file("chart"), "--namespace", RenderedChart.namespace,
                         "--show-only", "templates/zz-notes-probe.yaml", "--set", "image.repository=\(ChartValues.imageRepository)"]
        for assignment in set { arguments += ["--set", assignment] }
        let yaml = try DeployTool.helm.run(arguments).succeeded("helm template NOTES probe").stdout
        let read = "import sys, yaml; sys.stdout.write(yaml.safe_load(sys.stdin)['data']['NOTES.txt'])"
        return try DeployTool.python.run(["-c", read], stdin: yaml).succeeded("read NOTES").stdoutText
    }

    @Test func notesTellHowToReadTheTokenAndCAFromTheRenderedSecrets() throws {
        let notes = try Self.renderNotes()
        let service = RenderedChart.fullname, namespace = RenderedChart.namespace
        #expect(notes.contains("kubectl -n \(namespace) get secret \(service)-tokens -o jsonpath='{.data.tokens\\.csv}' | base64 --decode"))
        #expect(notes.contains("kubectl -n \(namespace) get secret \(service)-tls -o jsonpath='{.data.ca\\.crt}' | base64 --decode"))
        #expect(!notes.contains("base64 -D"), "macOS-only flag (kyma #3325)")
        let rendered = try ChartValues.defaults.render(kubeVersion: "1.30.0")
        #expect(rendered.object("Secret", named: "\(service)-tokens")?["data"]["tokens.csv"].string != nil)
        #expect(rendered.object("Secret", named: "\(service)-tls")?["data"]["ca.crt"].string != nil)
    }

    @Test func notesCurlLineFetchesTheBundleThroughAPortForwardWithTheCertificatesName() throws {
        let notes = try Self.renderNotes()
        let host = "\(RenderedChart.fullname).\(RenderedChart.namespace).svc"
        #expect(notes.contains("kubectl -n \(RenderedChart.namespace) port-forward service/\(RenderedChart.fullname) 8443:443"))
        #expect(notes.contains("curl --fail-with-body --cacert helm-cert-server-ca.crt --resolve \(host):8443:127.0.0.1"))
        #expect(notes.contains("-H \"Authorization: Bearer $TOKEN\""))
        #expect(notes.contains("https://\(host):8443/v1/bundles/helm/bundle.tar.gz"))
    }

    /// With the shared key closed, bundle.tar.gz answers 403: the notes fetch personal.tar.gz (POST) instead.
    @Test func withTheSharedKeyClosedNotesFetchAPersonalCertificate() throws {
        let notes = try Self.renderNotes(set: ["issuer.secret=kyma-installer/helm-issuer-ca", "sharedKey.enabled=false"])
        let host = "\(RenderedChart.fullname).\(RenderedChart.namespace).svc"
        #expect(notes.contains("-H \"Authorization: Bearer $TOKEN\" -X POST \\\n     -o helm-bundle.tar.gz https://\(host):8443/v1/bundles/helm/personal.tar.gz"), "\(notes)")
        #expect(!notes.contains("/v1/bundles/helm/bundle.tar.gz"))
        let open = try Self.renderNotes(set: ["issuer.secret=kyma-installer/helm-issuer-ca"])
        #expect(open.contains("https://\(host):8443/v1/bundles/helm/bundle.tar.gz"))
        #expect(open.contains("personal.tar.gz"), "the notes point at personal certificates once issuing is on")
        let closedWithoutIssuer = try Self.renderNotes(set: ["sharedKey.enabled=false"])
        #expect(closedWithoutIssuer.contains("WARNING: sharedKey.enabled is false and issuer.secret is empty"))
    }

    /// The steps of README "Deploy on Kyma": the Secret exists, the rollout finished, the port-forward answers before
    /// the fetch, and the bundle lands in the Helm 2 client's home without `helm home` (which Helm 3 lacks).
    @Test func notesWaitForTheRolloutAndThePortForwardAndUnpackIntoHelm2sHome() throws {
        let notes = try Self.renderNotes()
        let host = "\(RenderedChart.fullname).\(RenderedChart.namespace).svc"
        #expect(notes.contains("kubectl -n kyma-installer get secret helm-secret -o name"))
        #expect(notes.contains("kubectl -n \(RenderedChart.namespace) rollout status deployment/\(RenderedChart.fullname) --timeout=120s"))
        let forward = try #require(notes.range(of: "port-forward service/\(RenderedChart.fullname) 8443:443 >/dev/null & PF=$!"))
        let wait = try #require(notes.range(of: "for i in $(seq 1 30); do curl -fsS -o /dev/null --cacert helm-cert-server-ca.crt --resolve \(host):8443:127.0.0.1 https://\(host):8443/readyz && break; sleep 1; done"))
        let fetch = try #require(notes.range(of: "bundle.tar.gz"))
        #expect(forward.upperBound < wait.lowerBound && wait.upperBound < fetch.lowerBound)
        #expect(notes.contains("HELM_HOME=\"${HELM_HOME:-$HOME/.helm}\"\n   mkdir -p \"$HELM_HOME\" && tar -xzf helm-bundle.tar.gz -C \"$HELM_HOME\" && helm ls --tls"))
        #expect(!notes.contains("$(helm home)"), "Helm 3 has no `helm home`")
    }

    @Test func notesWarnWhenTheIngressControllerMayNotSpeakTLSToTheBackend() throws {
        let other = try Self.renderNotes(set: ["ingress.enabled=true", "ingress.className=traefik"])
        #expect(other.contains("WARNING: the backend speaks only HTTPS"))
        let nginx = try Self.renderNotes(set: ["ingress.enabled=true", "ingress.className=nginx"])
        #expect(!nginx.contains("WARNING"))
    }

    @Test func notesFollowTheServicePortAndIngress() throws {
        let notes = try Self.renderNotes(set: ["service.port=9443", "ingress.enabled=true", "ingress.host=certs.example.org"])
        #expect(notes.contains("port-forward service/\(RenderedChart.fullname) 8443:9443"))
        #expect(notes.contains("https://certs.example.org/v1/bundles/helm/bundle.tar.gz"))
    }
}
