import Foundation
import Testing
import TestSupport

/// The chart follows the conventions operators expect: `values.schema.json` refuses unknown keys and wrong types
/// (Helm 3 checks it; Helm 2 ignores it), `image.repository` must be set, `imagePullSecrets` takes both forms, and
/// the usual keys (service account, names, scheduling, security contexts, args, env, probes) reach the objects.
@Suite struct ChartConventionsTests {
    /// `helm template`'s failure for some `--set` assignments (nil when it rendered).
    private func refusal(_ set: [String]) throws -> String? {
        var arguments = ["template", RenderedChart.release, "chart"]
        for assignment in set { arguments += ["--set", assignment] }
        let result = try DeployTool.helm.run(arguments)
        return result.status == 0 ? nil : result.stderrText
    }

    @Test(arguments: [("serviceAccount.creat=false", "serviceAccount: Additional property creat is not allowed"),
                      ("imagePullSecret=regcred", "(root): Additional property imagePullSecret is not allowed"),
                      ("ingress.path=/", "ingress: Additional property path is not allowed")])
    func anUnknownKeyIsRefused(assignment: String, message: String) throws {
        let error = try #require(try refusal(["image.repository=r/helm-cert-server", assignment]), "\(assignment) rendered")
        #expect(error.contains("values don't meet the specifications of the schema"))
        #expect(error.contains(message), "\(error)")
    }

    @Test(arguments: [("replicaCount=two", "replicaCount: Invalid type. Expected: integer, given: string"),
                      ("service.port=https", "service.port: Invalid type. Expected: integer, given: string"),
                      ("logLevel=verbose", "logLevel: logLevel must be one of the following"),
                      ("serviceAccount.create=maybe", "serviceAccount.create: Invalid type. Expected: boolean, given: string")])
    func aWrongTypeIsRefused(assignment: String, message: String) throws {
        let error = try #require(try refusal(["image.repository=r/helm-cert-server", assignment]), "\(assignment) rendered")
        #expect(error.contains(message), "\(error)")
    }

    @Test func withoutImageRepositoryRenderingFailsAndSaysWhatToSet() throws {
        let error = try #require(try refusal([]), "rendered without image.repository")
        #expect(error.contains("image.repository is empty"))
        #expect(error.contains("--set image.repository=registry.example.com/kyma/helm-cert-server"))
    }

    /// Every key of values.yaml has its property in the schema (a key without one would be refused), and the
    /// all-options values set every key, so the schema and the Kubernetes validation see each of them.
    @Test func schemaAndAllOptionsValuesCoverEveryKeyOfValuesYaml() throws {
        let script = """
            import json, sys, yaml
            values = yaml.safe_load(open('chart/values.yaml'))
            schema = json.load(open('chart/values.schema.json'))
            options = yaml.safe_load(open('chart/ci/all-options-values.yaml'))
            def walk(v, s, o, path):
                if 'properties' not in s and isinstance(s.get('additionalProperties'), dict): return  # a map, e.g. resources.limits
                for key, value in v.items():
                    if key not in s.get('properties', {}): print('schema lacks ' + path + key)
                    elif s.get('additionalProperties') is not False: print('schema allows unknown keys next to ' + path + key)
                    if key not in o: print('all-options lacks ' + path + key)
                    if isinstance(value, dict) and value and key in s.get('properties', {}) and isinstance(o.get(key), dict):
                        walk(value, s['properties'][key], o[key], path + key + '.')
            walk(values, schema, options, '')
            """
        let result = try DeployTool.python.run(["-c", script]).succeeded("walk values.yaml")
        #expect(result.stdoutText.isEmpty, "\(result.stdoutText)")
    }

    @Test func imagePullSecretsTakeBothForms() throws {
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: ["imagePullSecrets[0]=regcred", "imagePullSecrets[1].name=mirror"])
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]
        #expect(pod["imagePullSecrets"].array.map { $0["name"].string } == ["regcred", "mirror"])
    }

    @Test func aDigestPinsTheImage() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: ["image.digest=\(digest)"])
        let container = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]
        #expect(container["image"].string == "\(ChartValues.imageRepository)@\(digest)")
    }

    @Test(arguments: kubeVersions)
    func everyPodKeyOfTheAllOptionsValuesReachesTheDeployment(kubeVersion: String) throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: kubeVersion)
        let pod = try #require(rendered.only("Deployment"))["spec"]["template"]
        let spec = pod["spec"], container = spec["containers"][0]
        #expect(pod["metadata"]["labels"]["example.com/team"].string == "platform")
        #expect(spec["serviceAccountName"].string == "helm-cert-server-reader")
        #expect(spec["priorityClassName"].string == "system-cluster-critical")
        #expect(spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].isNull == false)
        #expect(spec["affinity"]["podAntiAffinity"].isNull, "affinity given: the chart's default anti-affinity is replaced")
        #expect(spec["topologySpreadConstraints"][0]["topologyKey"].string == "topology.kubernetes.io/zone")
        #expect(spec["securityContext"]["supplementalGroups"].array.compactMap(\.int) == [65533])
        #expect(spec["securityContext"]["runAsNonRoot"].bool == true, "merged over the hardened context")
        #expect(container["securityContext"]["seLinuxOptions"]["level"].string == "s0:c123,c456")
        #expect(container["securityContext"]["readOnlyRootFilesystem"].bool == true)
        #expect(container["args"].strings.last == "--event-loops=2")
        #expect(container["env"][0]["name"].string == "TZ" && container["env"][0]["value"].string == "UTC")
        #expect(container["livenessProbe"]["periodSeconds"].int == 20 && container["livenessProbe"]["initialDelaySeconds"].int == 1)
        #expect(container["readinessProbe"]["timeoutSeconds"].int == 3 && container["readinessProbe"]["failureThreshold"].int == 3)
        #expect(container["livenessProbe"]["httpGet"]["path"].string == "/healthz")
        #expect(container["resources"]["limits"]["memory"].string == "256Mi")
        let account = try #require(rendered.only("ServiceAccount"))
        #expect(account["metadata"]["name"].string == "helm-cert-server-reader")
        #expect(account["metadata"]["annotations"]["example.com/owner"].string == "platform-team")
        let service = try #require(rendered.only("Service"))
        #expect(service["metadata"]["annotations"]["example.com/exposed-by"].string == "helm-cert-server")
        let binding = try #require(rendered.object("RoleBinding", named: RenderedChart.fullname))
        #expect(binding["subjects"][0]["name"].string == "helm-cert-server-reader")
    }

    @Test func anExistingServiceAccountIsUsedAndNotCreated() throws {
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: ["serviceAccount.create=false", "serviceAccount.name=platform-sa"])
        #expect(rendered.objects(ofKind: "ServiceAccount").isEmpty)
        #expect(try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["serviceAccountName"].string == "platform-sa")
        #expect(rendered.object("RoleBinding", named: RenderedChart.fullname)?["subjects"][0]["name"].string == "platform-sa")
        #expect(throws: CommandFailedError.self, "no account to run as") {
            try RenderedChart(kubeVersion: "1.30.0", set: ["serviceAccount.create=false"])
        }
    }

    @Test func nameOverridesRenameObjectsAndLabels() throws {
        let full = try RenderedChart(kubeVersion: "1.30.0", set: ["fullnameOverride=certs"])
        #expect(full.object("Deployment", named: "certs") != nil)
        #expect(full.object("Secret", named: "certs-tls") != nil)
        let short = try RenderedChart(kubeVersion: "1.30.0", set: ["nameOverride=hcs"])
        let deployment = try #require(short.object("Deployment", named: "\(RenderedChart.release)-hcs"))
        #expect(deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].string == "hcs")
    }
}
