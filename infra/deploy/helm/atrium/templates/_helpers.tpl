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
{{- $sandbox := .Values.sandbox -}}
envFrom:
  - secretRef:
      name: {{ include "atrium.secretName" . }}
env:
  - name: POD_NAME
    valueFrom:
      fieldRef: {fieldPath: metadata.name}
  - name: DJANGO_SETTINGS_MODULE
    value: config.settings.production
{{- if $sandbox.enabled }}
  - name: ATRIUM_SANDBOX_DIR
    value: {{ $sandbox.dir | quote }}
  - name: ATRIUM_SANDBOX_MEMORY_BYTES
    value: {{ $sandbox.memoryBytes | int64 | toString | quote }}
  - name: ATRIUM_SANDBOX_CPUS
    value: {{ $sandbox.cpus | toString | quote }}
{{- end }}
{{- range $name, $value := .Values.config }}
  - name: {{ $name }}
    value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* The claim holding the sandboxes' directory. */}}
{{- define "atrium.sandboxClaim" -}}
{{- default (printf "%s-sandboxes" (include "atrium.fullname" .)) .Values.sandbox.persistence.existingClaim -}}
{{- end -}}

{{/* Pod-level fields shared by every Atrium pod (each adds its serviceAccountName). Called with
(dict "root" $ "sandboxVolume" bool "sandboxed" bool): pods that keep sandboxes' files mount their
volume; pods that run bubblewrap (sandboxed) also get their own user namespace (see values.yaml). */}}
{{- define "atrium.podSpec" -}}
{{- $sandbox := .root.Values.sandbox -}}
{{- with .root -}}
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
{{- end }}
{{- if and $sandbox.enabled .sandboxVolume }}
  - name: sandboxes
    persistentVolumeClaim:
      claimName: {{ include "atrium.sandboxClaim" .root }}
{{- end }}
{{- if and $sandbox.enabled .sandboxed (not $sandbox.hostUsers) }}
hostUsers: false
{{- end }}
{{- end -}}

{{/* Container-level fields shared by every Atrium container; called like "atrium.podSpec". A
sandboxed container gets exactly the sandbox's seccomp profile and procMount on top of the chart's
securityContext. */}}
{{- define "atrium.container" -}}
{{- $sandbox := .root.Values.sandbox -}}
{{- $security := deepCopy .root.Values.securityContext -}}
{{- if and $sandbox.enabled .sandboxed -}}
{{- $_ := set $security "seccompProfile" $sandbox.seccompProfile -}}
{{- if $sandbox.procMount }}{{ $_ := set $security "procMount" $sandbox.procMount }}{{ end -}}
{{- end -}}
image: {{ include "atrium.image" .root }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml $security | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if and $sandbox.enabled .sandboxVolume }}
  - name: sandboxes
    mountPath: {{ $sandbox.dir }}
{{- end }}
{{ include "atrium.env" .root }}
{{- end -}}

{{/* Restart pods when a chart-managed Secret changes; called like "atrium.podSpec", plus "container"
(its name): a sandboxed container gets the sandbox's AppArmor profile. The annotation, not the
appArmorProfile field, since Kubernetes before 1.30 has no field. */}}
{{- define "atrium.podAnnotations" -}}
{{- $sandbox := .root.Values.sandbox -}}
{{- if and $sandbox.enabled .sandboxed $sandbox.appArmorProfile }}
container.apparmor.security.beta.kubernetes.io/{{ .container }}: {{ $sandbox.appArmorProfile }}
{{- end }}
{{- with .root -}}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ .Values.secrets.values | toJson | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end -}}
