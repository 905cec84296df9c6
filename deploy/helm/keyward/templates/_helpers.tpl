{{/* Names, labels and the pieces every Keyward pod shares. */}}

{{- define "keyward.fullname" -}}
{{- printf "%s-keyward" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "keyward.labels" -}}
app.kubernetes.io/part-of: keyward
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "service" "gateway") */}}
{{- define "keyward.selector" -}}
app.kubernetes.io/name: keyward-{{ .service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "keyward.serviceName" -}}
{{- printf "%s-%s" (include "keyward.fullname" .root) .service | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "keyward.image" -}}
{{- printf "%s/keyward-%s:%s" .root.Values.image.registry .service .root.Values.image.tag -}}
{{- end -}}

{{- define "keyward.secretName" -}}
{{- include "keyward.fullname" . -}}
{{- end -}}

{{/* The environment every service gets: database, broker, tenants, service identity, telemetry, peers. */}}
{{/* A service's own database role or broker user (<username>_<schema>) and its password key, or the shared ones. */}}
{{- define "keyward.account" -}}
{{- if .values.userPerService -}}{{ printf "%s_%s" .values.username (replace "-" "_" .service) }}{{- else -}}{{ .values.username }}{{- end -}}
{{- end -}}

{{- define "keyward.passwordKey" -}}
{{- if .values.userPerService -}}{{ printf "%s-%s" .values.passwordKey .service }}{{- else -}}{{ .values.passwordKey }}{{- end -}}
{{- end -}}

{{- define "keyward.commonEnv" -}}
{{- $root := .root -}}
{{- $secret := include "keyward.secretName" $root -}}
{{- $pg := dict "values" $root.Values.postgres "service" .service -}}
{{- $mq := dict "values" $root.Values.rabbitmq "service" .service -}}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.postgres.existingSecret | default $secret }}
      key: {{ include "keyward.passwordKey" $pg }}
- name: RABBITMQ_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.rabbitmq.existingSecret | default $secret }}
      key: {{ include "keyward.passwordKey" $mq }}
# Kubernetes expands $(VAR) from the variables above: the passwords never sit in a ConfigMap.
- name: ConnectionStrings__Postgres
  value: {{ printf "Host=%s;Port=%v;Database=%s;Username=%s;SSL Mode=%s;Password=$(POSTGRES_PASSWORD)" $root.Values.postgres.host $root.Values.postgres.port $root.Values.postgres.database (include "keyward.account" $pg) $root.Values.postgres.sslMode | quote }}
- name: ConnectionStrings__RabbitMq
  value: {{ printf "amqp://%s:$(RABBITMQ_PASSWORD)@%s:%v/%s" (include "keyward.account" $mq) $root.Values.rabbitmq.host $root.Values.rabbitmq.port $root.Values.rabbitmq.vhost | quote }}
{{- end -}}

{{/* Volumes every pod has: a writable /tmp (the root filesystem is read-only) and the tenant keys. */}}
{{- define "keyward.commonVolumes" -}}
- name: tmp
  emptyDir: {}
- name: tenant-keys
  secret:
    secretName: {{ .root.Values.tenantsExistingSecret | default (printf "%s-tenants" (include "keyward.fullname" .root)) }}
- name: service-identity
  secret:
    secretName: {{ .root.Values.serviceIdentity.existingSecret | default (include "keyward.secretName" .root) }}
    items:
      - key: {{ .root.Values.serviceIdentity.publicKeyKey }}
        path: public.pem
{{- if has .service (list "audit" "keyserver") }}
      - key: {{ .root.Values.serviceIdentity.privateKeyKey }}
        path: private.pem
{{- end }}
{{- end -}}

{{- define "keyward.commonMounts" -}}
- name: tmp
  mountPath: /tmp
- name: tenant-keys
  mountPath: /etc/keyward/tenants
  readOnly: true
- name: service-identity
  mountPath: /etc/keyward/service-identity
  readOnly: true
{{- end -}}

{{/* The HSM PINs, for the certificate authority only. */}}
{{/* The HSM PINs as variables: only for the SoftHSM init container, which makes the token. The CA reads its PIN from a file. */}}
{{- define "keyward.hsmInitEnv" -}}
{{- $secret := .root.Values.hsm.existingSecret | default (include "keyward.secretName" .root) -}}
- name: Keyward__Hsm__Pin
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .root.Values.hsm.pinKey }}
- name: HSM_SO_PIN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .root.Values.hsm.soPinKey }}
{{- end -}}

{{- define "keyward.hsmMounts" -}}
- name: hsm-pin
  mountPath: /etc/keyward/hsm
  readOnly: true
{{- if eq .root.Values.hsm.mode "softhsm" }}
- name: softhsm-tokens
  mountPath: /var/lib/softhsm/tokens
- name: softhsm-conf
  mountPath: /etc/softhsm
  readOnly: true
{{- else }}
- name: hsm-module
  mountPath: {{ .root.Values.hsm.pkcs11.mountPath }}
  readOnly: true
{{- end -}}
{{- end -}}
