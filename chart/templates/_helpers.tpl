{{/* Helpers shared by the templates. Only functions Helm 2.16 has (no lookup, no must*, no *WithKey). */}}

{{/* The chart's name (nameOverride wins), at most 63 characters. */}}
{{- define "helm-cert-server.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's object name, at most 63 characters: fullnameOverride, else <release>-<name>. */}}
{{- define "helm-cert-server.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "helm-cert-server.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount the pods run as: serviceAccount.name, else the fullname (when the chart creates it). */}}
{{- define "helm-cert-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "helm-cert-server.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.create is false: set serviceAccount.name to the existing ServiceAccount the pods run as" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image reference: repository (required), then @digest when set, else :tag (default appVersion). */}}
{{- define "helm-cert-server.image" -}}
{{- $repository := required "image.repository is empty: no public image exists. Build the Dockerfile, push it, and set image.repository (e.g. --set image.repository=registry.example.com/kyma/helm-cert-server)" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The HTTPS host name of the Service inside the cluster (what the generated certificate names). */}}
{{- define "helm-cert-server.serviceHost" -}}
{{- printf "%s.%s.svc" (include "helm-cert-server.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "helm-cert-server.labels" -}}
app.kubernetes.io/name: {{ include "helm-cert-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels that select the pods. */}}
{{- define "helm-cert-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "helm-cert-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The Secret holding the serving certificate. */}}
{{- define "helm-cert-server.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "helm-cert-server.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{/* The Secret holding tokens.csv. */}}
{{- define "helm-cert-server.tokenSecretName" -}}
{{- default (printf "%s-tokens" (include "helm-cert-server.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* The audience Kubernetes tokens must be minted for (--kube-auth-audience): kubeAuth.audience, else the Service's URL. */}}
{{- define "helm-cert-server.kubeAuthAudience" -}}
{{- default (printf "https://%s.%s.svc" (include "helm-cert-server.fullname" .) .Release.Namespace) .Values.kubeAuth.audience -}}
{{- end -}}

{{/* DNS names of the Service (and the Ingress host), one per line, for the generated certificate. */}}
{{- define "helm-cert-server.dnsNames" -}}
{{- $name := include "helm-cert-server.fullname" . -}}
{{ $name }}
{{ $name }}.{{ .Release.Namespace }}
{{ $name }}.{{ .Release.Namespace }}.svc
{{ $name }}.{{ .Release.Namespace }}.svc.cluster.local
{{- if .Values.ingress.enabled }}
{{ .Values.ingress.host }}
{{- end }}
{{- if .Values.istio.enabled }}
{{ .Values.istio.host }}
{{- end }}
{{- range .Values.tls.extraDNSNames }}
{{ . }}
{{- end }}
{{- end -}}

{{/* True ("true") when the cluster is at least the given Kubernetes version, e.g. (list . "1.21"). */}}
{{- define "helm-cert-server.kubeAtLeast" -}}
{{- $root := index . 0 -}}
{{- if semverCompare (printf ">=%s-0" (index . 1)) $root.Capabilities.KubeVersion.GitVersion -}}true{{- end -}}
{{- end -}}

{{/*
The generated serving certificate as Secret data (ca.crt, tls.crt, tls.key, base64).
ECDSA P-256 needs genCAWithKey/genSignedCertWithKey (Sprig 3.2, Helm >= 3.5). Helm 2 would fail to parse a
template naming them, so that variant lives in files/ecdsa-serving-cert.tpl, run through `tpl` only under
Helm >= 3.5. Everywhere else (Helm 2, Helm < 3.5, or keyAlgorithm rsa) genCA/genSignedCert give RSA-2048.
*/}}
{{- define "helm-cert-server.servingCertData" -}}
{{- $ecdsa := false -}}
{{- if eq .Values.tls.keyAlgorithm "ecdsa" -}}
{{- if eq .Release.Service "Helm" -}}
{{- if semverCompare ">=3.5.0-0" .Capabilities.HelmVersion.Version -}}
{{- $ecdsa = true -}}
{{- end -}}
{{- end -}}
{{- else if ne .Values.tls.keyAlgorithm "rsa" -}}
{{- fail (printf "tls.keyAlgorithm must be ecdsa or rsa, not %q" .Values.tls.keyAlgorithm) -}}
{{- end -}}
{{- if $ecdsa -}}
{{ tpl (.Files.Get "files/ecdsa-serving-cert.tpl") . }}
{{- else -}}
{{- $name := include "helm-cert-server.fullname" . -}}
{{- $ca := genCA (printf "%s-ca" $name) (int .Values.tls.validityDays) -}}
{{- $dns := list -}}
{{- range splitList "\n" (include "helm-cert-server.dnsNames" .) }}{{ if . }}{{ $dns = append $dns . }}{{ end }}{{ end -}}
{{- $cert := genSignedCert $name nil $dns (int .Values.tls.validityDays) $ca -}}
ca.crt: {{ $ca.Cert | b64enc }}
tls.crt: {{ $cert.Cert | b64enc }}
tls.key: {{ $cert.Key | b64enc }}
{{- end -}}
{{- end -}}

{{/* One line of the kube-apiserver static token file: token,user,uid[,"g1,g2"]. */}}
{{- define "helm-cert-server.tokenLine" -}}
{{- if not .token }}{{ fail "auth.tokens: every entry needs a token" }}{{ end -}}
{{- if not .user }}{{ fail "auth.tokens: every entry needs a user" }}{{ end -}}
{{- .token }},{{ .user }},{{ default .user .uid }}
{{- if .groups }},"{{ join "," .groups }}"{{ end }}
{{- end -}}

{{/*
issuer.secret (NAMESPACE/NAME) as YAML {namespace: ..., name: ...}; both empty when issuing is off.
*/}}
{{- define "helm-cert-server.issuerSecret" -}}
{{- $parts := splitList "/" .Values.issuer.secret -}}
{{- if eq (len $parts) 2 -}}
namespace: {{ index $parts 0 | quote }}
name: {{ index $parts 1 | quote }}
{{- else -}}
namespace: ""
name: ""
{{- end -}}
{{- end }}
