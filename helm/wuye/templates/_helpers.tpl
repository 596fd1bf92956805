{{/*
Names and labels.
*/}}
{{- define "wuye.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's prefix of every object's name; components add "-web", "-worker", ... (<= 63). */}}
{{- define "wuye.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 48 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "wuye.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wuye.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wuye.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "wuye.labels" -}}
helm.sh/chart: {{ include "wuye.chart" . }}
{{ include "wuye.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "wuye.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "wuye.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "wuye.imageTag" .) }}
{{- end }}

{{/*
The settings. Every key of .Values.env (plain) and .Values.secretEnv (secret) is an environment variable
the application reads; an empty value means "not set" and is left out, so the settings' or the image's
default applies. The same data feeds the release's ConfigMap/Secret (web, worker, beat) and the hook's
copies the migration Job reads (a pre-install hook runs before the release's own objects exist).
*/}}
{{- define "wuye.configData" -}}
{{- $config := dict }}
{{- range $name, $value := .Values.env }}
{{- if $value }}
{{- $_ := set $config $name (toString $value) }}
{{- end }}
{{- end }}
{{- if not (hasKey $config "WUYE_RELEASE") }}
{{- $_ := set $config "WUYE_RELEASE" (include "wuye.imageTag" .) }}
{{- end }}
{{- range $name, $value := $config }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{- define "wuye.secretData" -}}
{{- if .Values.existingSecret }}
{{- range $name, $value := .Values.secretEnv }}
{{- if $value }}
{{- fail (printf "secretEnv.%s is set but existingSecret %q replaces the chart's Secret: put it in that Secret" $name $.Values.existingSecret) }}
{{- end }}
{{- end }}
{{- else }}
{{- range $name := list "WUYE_SECRET_KEY" "WUYE_FIELD_KEYS" "WUYE_BLIND_INDEX_KEY" "DATABASE_URL" "REDIS_URL" }}
{{- if not (index $.Values.secretEnv $name) }}
{{- fail (printf "secretEnv.%s is required (or name your own Secret in existingSecret)" $name) }}
{{- end }}
{{- end }}
{{- range $name, $value := .Values.secretEnv }}
{{- if $value }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Secret web, worker and beat read, and the one the migration Job reads. */}}
{{- define "wuye.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secret" (include "wuye.fullname" .)) }}
{{- end }}

{{- define "wuye.migrateSecretName" -}}
{{- .Values.existingSecret | default (printf "%s-migrate-secret" (include "wuye.fullname" .)) }}
{{- end }}

{{/* Where uploads live; the media volume is mounted here. */}}
{{- define "wuye.mediaRoot" -}}
{{- .Values.env.WUYE_MEDIA_ROOT | default "/var/lib/wuye/media" }}
{{- end }}

{{- define "wuye.mediaClaimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-media" (include "wuye.fullname" .)) }}
{{- end }}

{{/* Pod-level settings shared by every pod: pull secrets, service account, scheduling. */}}
{{- define "wuye.podScheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .Values.serviceAccountName }}
serviceAccountName: {{ .Values.serviceAccountName }}
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
{{- end }}
