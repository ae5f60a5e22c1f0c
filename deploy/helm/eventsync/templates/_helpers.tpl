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

{{/* The container settings every eventsync role shares. */}}
{{- define "eventsync.container" -}}
image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
env:
  - name: TEMPORAL_ADDRESS
    value: {{ .Values.temporal.address | quote }}
  - name: TEMPORAL_NAMESPACE
    value: {{ .Values.temporal.namespace | quote }}
  - name: EVENTSYNC_DEFINITIONS
    value: /config/eventsync.yaml
  - name: EVENTSYNC_PROMETHEUS_PORT
    value: {{ .Values.metrics.port | quote }}
  - name: EVENTSYNC_LOG_FORMAT
    value: {{ .Values.logFormat | quote }}
envFrom:
  - secretRef:
      name: {{ .Values.existingSecret }}
volumeMounts:
  - name: definitions
    mountPath: /config
    readOnly: true
{{- end -}}

{{- define "eventsync.volumes" -}}
volumes:
  - name: definitions
    configMap:
      name: {{ include "eventsync.fullname" . }}-definitions
{{- end -}}
