{{/*
Names, labels and the rendered application config.
*/}}

{{- define "cafwd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cafwd.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of the headless governing Service of the StatefulSet. */}}
{{- define "cafwd.headlessName" -}}
{{- printf "%s-headless" (include "cafwd.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cafwd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cafwd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cafwd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cafwd.labels" -}}
helm.sh/chart: {{ include "cafwd.chart" . }}
{{ include "cafwd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: forwarder
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "cafwd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cafwd.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cafwd.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Fixed paths inside the container. */}}
{{- define "cafwd.configDir" -}}/etc/cloudhsm-audit-forwarder/config{{- end }}
{{- define "cafwd.configFile" -}}{{ include "cafwd.configDir" . }}/config.json{{- end }}
{{- define "cafwd.secretsDir" -}}/etc/cloudhsm-audit-forwarder/secrets{{- end }}
{{- define "cafwd.kafkaSaslPasswordFile" -}}{{ include "cafwd.secretsDir" . }}/kafka-sasl/password{{- end }}
{{- define "cafwd.opensearchPasswordFile" -}}{{ include "cafwd.secretsDir" . }}/opensearch/password{{- end }}
{{- define "cafwd.kafkaTlsDir" -}}/etc/cloudhsm-audit-forwarder/tls/kafka{{- end }}
{{- define "cafwd.opensearchTlsDir" -}}/etc/cloudhsm-audit-forwarder/tls/opensearch{{- end }}
{{- define "cafwd.checkpointDir" -}}{{ trimSuffix "/" .Values.persistence.mountPath }}/checkpoints{{- end }}
{{- define "cafwd.deadLetterFile" -}}{{ trimSuffix "/" .Values.persistence.mountPath }}/dead-letter.ndjson{{- end }}

{{/*
Cross-field checks the JSON schema cannot express well; each fails the render with the key to fix.
*/}}
{{- define "cafwd.validate" -}}
{{- $v := .Values -}}
{{- $sasl := $v.kafka.sasl -}}
{{- if ne $sasl.mechanism "none" }}
{{- if not $sasl.username }}
{{- fail (printf "kafka.sasl.username is required when kafka.sasl.mechanism is %q" $sasl.mechanism) }}
{{- end }}
{{- if not $sasl.existingSecret.name }}
{{- fail (printf "kafka.sasl.existingSecret.name is required when kafka.sasl.mechanism is %q: create a Secret with the password (kubectl create secret generic NAME --from-literal=%s=...) and name it here" $sasl.mechanism $sasl.existingSecret.key) }}
{{- end }}
{{- if and (not $v.kafka.ssl.enabled) (not $sasl.allowWithoutTls) }}
{{- fail (printf "kafka.sasl.mechanism is %q but kafka.ssl.enabled is false: the SASL credentials and every record would cross the network unencrypted. Enable kafka.ssl (Amazon MSK serves SASL/SCRAM over TLS on port 9096); only for a lab broker, set kafka.sasl.allowWithoutTls=true" $sasl.mechanism) }}
{{- end }}
{{- else if or $sasl.username $sasl.existingSecret.name }}
{{- fail "kafka.sasl.username / kafka.sasl.existingSecret.name are set but kafka.sasl.mechanism is \"none\"; choose plain, scram-sha-256 or scram-sha-512" }}
{{- end }}
{{- $ssl := $v.kafka.ssl -}}
{{- if and (not $ssl.enabled) (or $ssl.existingSecret $ssl.caKey $ssl.certKey $ssl.keyKey) }}
{{- fail "kafka.ssl.existingSecret/caKey/certKey/keyKey are set but kafka.ssl.enabled is false" }}
{{- end }}
{{- if ne (empty $ssl.certKey) (empty $ssl.keyKey) }}
{{- fail "kafka.ssl.certKey and kafka.ssl.keyKey go together (mutual TLS): set both or neither" }}
{{- end }}
{{- if and (or $ssl.caKey $ssl.certKey) (not $ssl.existingSecret) }}
{{- fail "kafka.ssl.caKey/certKey/keyKey need kafka.ssl.existingSecret (the Secret holding them)" }}
{{- end }}
{{- if and $ssl.existingSecret (not (or $ssl.caKey $ssl.certKey)) }}
{{- fail "kafka.ssl.existingSecret is set but none of kafka.ssl.caKey / certKey+keyKey names a key in it" }}
{{- end }}
{{- $os := $v.opensearch -}}
{{- if and $os.username (not $os.existingSecret.name) }}
{{- fail "opensearch.existingSecret.name is required with opensearch.username (the Secret holding the basic-auth password)" }}
{{- end }}
{{- if and $os.existingSecret.name (not $os.username) }}
{{- fail "opensearch.username is required with opensearch.existingSecret.name" }}
{{- end }}
{{- if and $os.username (hasPrefix "http://" (lower $os.url)) (not $os.allowHttpBasicAuth) }}
{{- fail "opensearch.url is http:// and opensearch.username is set: the basic-auth password would be sent in clear text with every request. Use an https:// URL; only for a lab cluster, set opensearch.allowHttpBasicAuth=true" }}
{{- end }}
{{- if and $os.sigv4.enabled $os.username }}
{{- fail "opensearch.sigv4.enabled and opensearch.username (basic auth) are both set; use one authentication method" }}
{{- end }}
{{- if and $os.sigv4.enabled (not (or $os.sigv4.region $v.aws.region)) }}
{{- fail "opensearch.sigv4.enabled needs a signing region: set aws.region (or opensearch.sigv4.region)" }}
{{- end }}
{{- if gt (int $v.pipeline.maxInFlightBatchesPerStream) (int $v.pipeline.maxInFlightBatches) }}
{{- fail "pipeline.maxInFlightBatchesPerStream must not exceed pipeline.maxInFlightBatches" }}
{{- end }}
{{- if and (empty $v.kafka.brokers) (empty $v.opensearch.url) }}
{{- fail "no sink is enabled: set kafka.brokers and/or opensearch.url (the forwarder would exit 2 at start-up without one)" }}
{{- end }}
{{- if and (empty $v.source.logGroupPrefixes) (empty $v.source.logGroups) }}
{{- fail "source.logGroupPrefixes and source.logGroups are both empty: nothing to read" }}
{{- end }}
{{- if le (mul (int $v.terminationGracePeriodSeconds) 1000) (int $v.pipeline.shutdownTimeoutMs) }}
{{- fail (printf "terminationGracePeriodSeconds (%d s) must be greater than pipeline.shutdownTimeoutMs (%d ms), or the pod is killed before it has drained and committed its checkpoints" (int $v.terminationGracePeriodSeconds) (int $v.pipeline.shutdownTimeoutMs)) }}
{{- end }}
{{- if and $v.persistence.existingClaim (gt (int $v.replicaCount) 1) }}
{{- fail "persistence.existingClaim cannot be shared by more than one replica" }}
{{- end }}
{{- if and $v.networkPolicy.enabled $v.networkPolicy.egress.enabled }}
{{- $np := $v.networkPolicy.egress }}
{{- if empty $np.aws.cidrs }}
{{- fail "networkPolicy.egress.aws.cidrs is empty: the forwarder must reach the AWS APIs on 443 (your VPC endpoint subnets, or 0.0.0.0/0 behind a NAT gateway)" }}
{{- end }}
{{- if and (not (empty $v.kafka.brokers)) (empty $np.kafka.cidrs) (empty $np.kafka.to) }}
{{- fail "kafka.brokers is set but networkPolicy.egress.kafka.cidrs and .to are empty: the policy would block the brokers" }}
{{- end }}
{{- if and $v.opensearch.url (empty $np.opensearch.cidrs) (empty $np.opensearch.to) }}
{{- fail "opensearch.url is set but networkPolicy.egress.opensearch.cidrs and .to are empty: the policy would block OpenSearch" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The application's JSON config (convict schema in src/config/schema.ts). Paths of the checkpoint
store, secrets and certificates are the chart's: they match the mounts of the StatefulSet.
No secret value ever lands here, only the paths of the mounted secret files.
*/}}
{{- define "cafwd.config" -}}
{{- $v := .Values -}}
{{- $ssl := $v.kafka.ssl -}}
{{- $kafkaSsl := dict "enabled" $ssl.enabled "rejectUnauthorized" $ssl.rejectUnauthorized "caFile" "" "certFile" "" "keyFile" "" -}}
{{- if $ssl.caKey }}{{- $_ := set $kafkaSsl "caFile" (printf "%s/ca.crt" (include "cafwd.kafkaTlsDir" .)) }}{{- end }}
{{- if $ssl.certKey }}{{- $_ := set $kafkaSsl "certFile" (printf "%s/tls.crt" (include "cafwd.kafkaTlsDir" .)) }}{{- end }}
{{- if $ssl.keyKey }}{{- $_ := set $kafkaSsl "keyFile" (printf "%s/tls.key" (include "cafwd.kafkaTlsDir" .)) }}{{- end }}
{{- $sasl := dict "mechanism" $v.kafka.sasl.mechanism "username" $v.kafka.sasl.username "passwordFile" "" "allowWithoutTls" $v.kafka.sasl.allowWithoutTls -}}
{{- if ne $v.kafka.sasl.mechanism "none" }}{{- $_ := set $sasl "passwordFile" (include "cafwd.kafkaSaslPasswordFile" .) }}{{- end }}
{{- $os := $v.opensearch -}}
{{- $osTls := dict "rejectUnauthorized" $os.tls.rejectUnauthorized "caFile" "" -}}
{{- if $os.tls.existingSecret }}{{- $_ := set $osTls "caFile" (printf "%s/ca.crt" (include "cafwd.opensearchTlsDir" .)) }}{{- end }}
{{- $config := dict
  "aws" (dict "region" $v.aws.region "endpoint" $v.aws.endpoint "accountId" $v.aws.accountId)
  "source" $v.source
  "pipeline" $v.pipeline
  "checkpoint" (dict "dir" (include "cafwd.checkpointDir" .))
  "kafka" (dict
    "brokers" $v.kafka.brokers
    "topic" $v.kafka.topic
    "clientId" $v.kafka.clientId
    "createTopic" $v.kafka.createTopic
    "topicPartitions" $v.kafka.topicPartitions
    "topicReplicationFactor" $v.kafka.topicReplicationFactor
    "compression" $v.kafka.compression
    "idempotent" $v.kafka.idempotent
    "requestTimeoutMs" $v.kafka.requestTimeoutMs
    "ssl" $kafkaSsl
    "sasl" $sasl)
  "opensearch" (dict
    "url" $os.url
    "indexPrefix" $os.indexPrefix
    "username" $os.username
    "passwordFile" (ternary (include "cafwd.opensearchPasswordFile" .) "" (not (empty $os.existingSecret.name)))
    "allowHttpBasicAuth" $os.allowHttpBasicAuth
    "tls" $osTls
    "sigv4" $os.sigv4
    "bulkMaxDocs" $os.bulkMaxDocs
    "compression" $os.compression
    "requestTimeoutMs" $os.requestTimeoutMs
    "lateIndex" $os.lateIndex)
  "deadLetter" (dict
    "topic" $v.deadLetter.topic
    "topicPartitions" $v.deadLetter.topicPartitions
    "topicReplicationFactor" $v.deadLetter.topicReplicationFactor
    "file" (include "cafwd.deadLetterFile" .))
  "enrichment" $v.enrichment
  "http" $v.http
  "log" (dict "level" $v.log.level "pretty" false)
-}}
{{- toPrettyJson $config }}
{{- end }}

{{/* NetworkPolicy peers from a list of CIDRs. */}}
{{- define "cafwd.ipBlocks" -}}
{{- range . }}
- ipBlock:
    cidr: {{ . }}
    {{- if eq . "0.0.0.0/0" }}
    except:
      # link-local: instance metadata (IMDS) stays unreachable
      - 169.254.0.0/16
    {{- end }}
{{- end }}
{{- end }}

{{/* NetworkPolicy TCP ports from a list of numbers. */}}
{{- define "cafwd.ports" -}}
{{- range . }}
- protocol: TCP
  port: {{ . }}
{{- end }}
{{- end }}
