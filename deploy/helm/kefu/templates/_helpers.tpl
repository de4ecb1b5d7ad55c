{{/* Names, labels and the settings every kefu pod reads. */}}

{{- define "kefu.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kefu.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kefu.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "kefu.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kefu
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "gateway"). */}}
{{- define "kefu.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kefu.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kefu.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kefu.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kefu.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "kefu.secretName" -}}
{{- default (printf "%s-secret" (include "kefu.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{/* The services this release runs: llm only in engine or proxy mode. */}}
{{- define "kefu.components" -}}
{{- $out := list "gateway" "intent" "dialog" "retrieval" -}}
{{- if has .Values.services.llm.mode (list "engine" "proxy") -}}
{{- $out = append $out "llm" -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* A value as the environment wants it: numbers Helm read as float64 keep their digits (toString
alone prints 1000000 as 1e+06), booleans become true/false. */}}
{{- define "kefu.str" -}}
{{- if kindIs "float64" . -}}
{{- if eq (floor .) . -}}{{ printf "%.0f" . }}{{- else -}}{{ toString . }}{{- end -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{- define "kefu.llmUrl" -}}
{{- $llm := .Values.services.llm -}}
{{- if has $llm.mode (list "engine" "proxy") -}}
{{- printf "http://%s-llm:%v/v1" (include "kefu.fullname" .) $llm.port -}}
{{- else if eq $llm.mode "external" -}}
{{- required "services.llm.external.url is required when services.llm.mode is external" $llm.external.url -}}
{{- else if eq $llm.mode "off" -}}
off
{{- else -}}
{{- fail (printf "services.llm.mode must be engine, proxy, external or off (got %q)" $llm.mode) -}}
{{- end -}}
{{- end -}}

{{/* ConfigMap data: chart-derived settings, then every non-empty `config` value (which wins). */}}
{{- define "kefu.configData" -}}
{{- $f := include "kefu.fullname" . -}}
{{- $s := .Values.services -}}
{{- $d := dict
  "KEFU_DATA_DIR" "/data"
  "KEFU_INTENT_URL" (printf "http://%s-intent:%v" $f $s.intent.port)
  "KEFU_DIALOG_URL" (printf "http://%s-dialog:%v" $f $s.dialog.port)
  "KEFU_RETRIEVAL_URL" (printf "http://%s-retrieval:%v" $f $s.retrieval.port)
  "KEFU_LLM_URL" (include "kefu.llmUrl" .)
  "HOME" "/tmp"
  "XDG_CACHE_HOME" "/tmp/.cache"
-}}
{{- if eq $s.llm.mode "proxy" -}}
{{- $_ := set $d "KEFU_LLM_UPSTREAM" (required "services.llm.upstream.url is required when services.llm.mode is proxy" $s.llm.upstream.url) -}}
{{- end -}}
{{- if and (eq $s.llm.mode "engine") $s.llm.threads -}}
{{- $_ := set $d "KEFU_LLM_THREADS" (include "kefu.str" $s.llm.threads) -}}
{{- end -}}
{{- range $k, $v := .Values.config -}}
{{- if and (not (kindIs "invalid" $v)) (ne (include "kefu.str" $v) "") -}}
{{- $_ := set $d $k (include "kefu.str" $v) -}}
{{- end -}}
{{- end -}}
{{- range $k := keys $d | sortAlpha }}
{{ $k }}: {{ get $d $k | quote }}
{{- end -}}
{{- end -}}

{{- define "kefu.redisUrl" -}}
{{- if .Values.redis.url -}}
{{- .Values.redis.url -}}
{{- else if .Values.redis.bundled.enabled -}}
{{- printf "redis://%s-redis:6379/0" (include "kefu.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "kefu.databaseUrl" -}}
{{- $pg := .Values.postgresql -}}
{{- if $pg.url -}}
{{- $pg.url -}}
{{- else if $pg.bundled.enabled -}}
{{- printf "postgresql://%s:%s@%s-postgresql:5432/%s" $pg.bundled.username (urlquery $pg.bundled.password) (include "kefu.fullname" .) $pg.bundled.database -}}
{{- end -}}
{{- end -}}

{{/* Secret data (plain; the Secret template encodes it). */}}
{{/* KEFU_INTERNAL_TOKEN when secrets.KEFU_INTERNAL_TOKEN is empty: the one the release's Secret
already holds (an upgrade keeps it), else 48 random characters. Memoised in .Values so the Secret,
the build Job's copy and the checksum of one render all carry the same value. */}}
{{- define "kefu.internalToken" -}}
{{- if not (hasKey .Values "__internalToken") -}}
{{- $token := "" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "kefu.secretName" .) -}}
{{- if and $existing $existing.data (hasKey $existing.data "KEFU_INTERNAL_TOKEN") -}}
{{- $token = index $existing.data "KEFU_INTERNAL_TOKEN" | b64dec -}}
{{- else -}}
{{- $token = randAlphaNum 48 -}}
{{- end -}}
{{- $_ := set .Values "__internalToken" $token -}}
{{- end -}}
{{- .Values.__internalToken -}}
{{- end -}}

{{- define "kefu.secretData" -}}
{{- $d := dict -}}
{{- $_ := set $d "KEFU_INTERNAL_TOKEN" (include "kefu.internalToken" .) -}}
{{- with (include "kefu.redisUrl" .) }}{{ $_ := set $d "REDIS_URL" . }}{{ end -}}
{{- with (include "kefu.databaseUrl" .) }}{{ $_ := set $d "DATABASE_URL" . }}{{ end -}}
{{- if and (eq .Values.artifacts.source "url") .Values.artifacts.url -}}
{{- $_ := set $d "KEFU_ARTIFACTS_URL" .Values.artifacts.url -}}
{{- end -}}
{{- range $k, $v := .Values.secrets -}}
{{- if and (not (kindIs "invalid" $v)) (ne (include "kefu.str" $v) "") -}}
{{- $_ := set $d $k (include "kefu.str" $v) -}}
{{- end -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not (hasKey $d "REDIS_URL")) -}}
{{- fail "no Redis: set redis.url (or secrets.REDIS_URL) or redis.bundled.enabled" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not (hasKey $d "DATABASE_URL")) -}}
{{- fail "no PostgreSQL: set postgresql.url (or secrets.DATABASE_URL) or postgresql.bundled.enabled; replicas cannot share SQLite" -}}
{{- end -}}
{{- range $k := keys $d | sortAlpha }}
{{ $k }}: {{ get $d $k | b64enc | quote }}
{{- end -}}
{{- end -}}

{{/* envFrom + env of every kefu container: (dict "ctx" $ "component" "gateway"). */}}
{{- define "kefu.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "kefu.fullname" .ctx }}-config
  - secretRef:
      name: {{ include "kefu.secretName" .ctx }}
env:
  - name: OTEL_SERVICE_NAME
    value: {{ default (printf "kefu-%s" .component) .ctx.Values.config.OTEL_SERVICE_NAME | quote }}
  {{- with .ctx.Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- with .extra }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Hash of the settings, so a changed ConfigMap/Secret rolls the pods. */}}
{{- define "kefu.configChecksum" -}}
{{- printf "%s\n%s" (include "kefu.configData" .) (include "kefu.secretData" .) | sha256sum -}}
{{- end -}}
