{{- define "eventsync.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "eventsync.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "eventsync.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Pod labels: the selector plus the role the NetworkPolicies select on. */}}
{{- define "eventsync.podLabels" -}}
{{ include "eventsync.selector" . }}
eventsync/role: {{ .role }}
{{- end -}}

{{/* Where a role's own secrets are mounted, one file per key: outside EVENTSYNC_SECRETS_DIR,
so no definition can name them in a ${file:…} reference (docs/security.md). */}}
{{- define "eventsync.ownSecretsDir" -}}/etc/eventsync/secrets{{- end -}}
{{/* Where the worker's connection credentials are mounted: the one secret-reference directory. */}}
{{- define "eventsync.connectionSecretsDir" -}}/run/secrets/eventsync{{- end -}}

{{/* The *_FILE variables each role reads its own secrets through (keys of its Secret). */}}
{{- define "eventsync.secretFiles" -}}
{{- $dir := include "eventsync.ownSecretsDir" . -}}
{{- $files := dict
  "receiver" (list (list "EVENTSYNC_CODEC_KEYS_FILE" "codec-keys") (list "EVENTSYNC_WEBHOOK_SECRETS_FILE" "webhook-secrets") (list "EVENTSYNC_STORE_FILE" "store-url"))
  "worker" (list (list "EVENTSYNC_CODEC_KEYS_FILE" "codec-keys") (list "EVENTSYNC_STORE_FILE" "store-url"))
  "codec-server" (list (list "EVENTSYNC_CODEC_KEYS_FILE" "codec-keys") (list "EVENTSYNC_CODEC_TOKEN_FILE" "codec-token"))
  "dashboard" (list (list "EVENTSYNC_CODEC_KEYS_FILE" "codec-keys") (list "EVENTSYNC_STORE_FILE" "store-url") (list "EVENTSYNC_DASHBOARD_TOKEN_FILE" "dashboard-token"))
-}}
{{- range (get $files .role) }}
- name: {{ index . 0 }}
  value: {{ printf "%s/%s" $dir (index . 1) | quote }}
{{- end }}
{{- end -}}

{{/* The Secret (created by you) of a role: .Values.secrets.<key>. */}}
{{- define "eventsync.secretName" -}}
{{- $key := get (dict "receiver" "receiver" "worker" "worker" "codec-server" "codecServer" "dashboard" "dashboard") .role -}}
{{- required (printf "secrets.%s: the name of the %s's Secret" $key .role) (get .root.Values.secrets $key) -}}
{{- end -}}

{{/* The container settings every eventsync role shares; call with (dict "root" $ "role" ROLE). */}}
{{- define "eventsync.container" -}}
{{- $v := .root.Values -}}
image: "{{ $v.image.repository }}:{{ $v.image.tag }}"
imagePullPolicy: {{ $v.image.pullPolicy }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
env:
  - name: TEMPORAL_ADDRESS
    value: {{ $v.temporal.address | quote }}
  - name: TEMPORAL_NAMESPACE
    value: {{ $v.temporal.namespace | quote }}
  - name: EVENTSYNC_DEFINITIONS
    value: /config/eventsync.yaml
  - name: EVENTSYNC_PROMETHEUS_PORT
    value: {{ $v.metrics.port | quote }}
  - name: EVENTSYNC_LOG_FORMAT
    value: {{ $v.logFormat | quote }}
  {{- include "eventsync.secretFiles" . | nindent 2 }}
  {{- range $name, $value := (.env | default dict) }}
  - name: {{ $name }}
    value: {{ $value | quote }}
  {{- end }}
  {{- if eq .role "worker" }}
  - name: EVENTSYNC_SECRETS_DIR
    value: {{ include "eventsync.connectionSecretsDir" . | quote }}
  {{- end }}
volumeMounts:
  - name: definitions
    mountPath: /config
    readOnly: true
  - name: own-secrets
    mountPath: {{ include "eventsync.ownSecretsDir" . }}
    readOnly: true
  {{- if and (eq .role "worker") $v.secrets.connections }}
  - name: connection-secrets
    mountPath: {{ include "eventsync.connectionSecretsDir" . }}
    readOnly: true
  {{- end }}
{{- end -}}

{{/* Pod-level settings every eventsync pod shares: no service-account token (no pod talks to
the Kubernetes API), secret files readable by group 10001 only. */}}
{{- define "eventsync.podSpec" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
{{- end -}}

{{- define "eventsync.volumes" -}}
{{- $v := .root.Values -}}
volumes:
  - name: definitions
    configMap:
      name: {{ include "eventsync.fullname" .root }}-definitions
  - name: own-secrets
    secret:
      secretName: {{ include "eventsync.secretName" . }}
      defaultMode: 0440
  {{- if and (eq .role "worker") $v.secrets.connections }}
  - name: connection-secrets
    secret:
      secretName: {{ $v.secrets.connections }}
      defaultMode: 0440
      # Workers start without it (definitions that reference no file secret need none).
      optional: true
  {{- end }}
{{- end -}}
