{{/* Names and labels shared by every template. */}}
{{- define "atrium.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "atrium.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "atrium.labels" -}}
{{ include "atrium.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "atrium.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ required "image.tag is required (pin a release)" .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "atrium.secretName" -}}
{{- default (printf "%s-env" (include "atrium.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Environment of every Atrium container: the Secret, then the plain settings. */}}
{{- define "atrium.env" -}}
envFrom:
  - secretRef:
      name: {{ include "atrium.secretName" . }}
env:
  - name: POD_NAME
    valueFrom:
      fieldRef: {fieldPath: metadata.name}
  - name: DJANGO_SETTINGS_MODULE
    value: config.settings.production
{{- range $name, $value := .Values.config }}
  - name: {{ $name }}
    value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Pod-level fields shared by every Atrium pod (each adds its serviceAccountName). */}}
{{- define "atrium.podSpec" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir: {}
{{- end -}}

{{/* Container-level fields shared by every Atrium container. */}}
{{- define "atrium.container" -}}
image: {{ include "atrium.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{ include "atrium.env" . }}
{{- end -}}

{{/* Restart pods when a chart-managed Secret changes. */}}
{{- define "atrium.podAnnotations" -}}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ .Values.secrets.values | toJson | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}
