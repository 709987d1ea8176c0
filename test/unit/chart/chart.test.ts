/**
 * Helm chart checks (issue 8), without a cluster: helm lint --strict, helm template, the rendered
 * manifests against the Kubernetes 1.33 OpenAPI schemas (kubernetes-validate --strict), the
 * values schema rejecting bad values, the hardened StatefulSet, and the rendered config passing
 * the app's own `config validate`. Tools come from test/helm/tools.sh (cached; the first run
 * compiles helm, hence the long hook timeout).
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  CHART_DIR,
  KUBE_VERSION,
  REPO_ROOT,
  TOOLS_TIMEOUT_MS,
  asArray,
  asRecord,
  at,
  ensureTools,
  findKind,
  helmLint,
  helmTemplate,
  only,
  parseManifests,
  render,
  run,
  type Manifest,
} from './chart-tools.js';

const CI_DIR = join(CHART_DIR, 'ci');
const CI_FILES = readdirSync(CI_DIR)
  .filter((name) => name.endsWith('-values.yaml'))
  .sort();
const PRODUCTION = join(CI_DIR, 'production-values.yaml');

/** Every values set the chart is exercised with: defaults plus each ci/*-values.yaml. */
const VALUE_SETS: ReadonlyArray<{ name: string; files: string[] }> = [
  { name: 'default values', files: [] },
  ...CI_FILES.map((name) => ({ name: `ci/${name}`, files: [join(CI_DIR, name)] })),
];

/** Kinds without a schema in kubernetes-validate (CRDs); checked structurally below. */
const CRD_KINDS = new Set(['ServiceMonitor']);

let work = '';

before(
  () => {
    ensureTools();
    work = mkdtempSync(join(tmpdir(), 'cafwd-chart-'));
  },
  { timeout: TOOLS_TIMEOUT_MS },
);

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

function statefulSet(manifests: readonly Manifest[]): Manifest {
  return only(manifests, 'StatefulSet');
}

function container(sts: Manifest): Record<string, unknown> {
  const containers = asArray(at(sts, 'spec', 'template', 'spec', 'containers'));
  assert.equal(containers.length, 1, 'one container');
  return asRecord(containers[0]);
}

function envOf(sts: Manifest): Map<string, string> {
  const env = new Map<string, string>();
  for (const item of asArray(container(sts).env)) {
    const entry = asRecord(item);
    if (typeof entry.name === 'string' && typeof entry.value === 'string') {
      env.set(entry.name, entry.value);
    }
  }
  return env;
}

function renderedConfig(manifests: readonly Manifest[]): Record<string, unknown> {
  const text = at(only(manifests, 'ConfigMap'), 'data', 'config.json');
  assert.equal(typeof text, 'string', 'ConfigMap has data.config.json');
  return JSON.parse(text as string) as Record<string, unknown>;
}

function mountPathOf(sts: Manifest, volume: string): string {
  const mount = asArray(container(sts).volumeMounts)
    .map(asRecord)
    .find((m) => m.name === volume);
  assert.ok(mount, `volume ${volume} is mounted`);
  return mount.mountPath as string;
}

function isUnder(path: string, dir: string): boolean {
  const rel = posix.relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !posix.isAbsolute(rel);
}

function checksum(manifests: readonly Manifest[]): string {
  const value = at(
    statefulSet(manifests),
    'spec',
    'template',
    'metadata',
    'annotations',
    'checksum/config',
  );
  assert.equal(typeof value, 'string');
  return value as string;
}

describe('helm chart: lint and render', { timeout: TOOLS_TIMEOUT_MS }, () => {
  for (const set of VALUE_SETS) {
    it(`helm lint --strict passes with ${set.name}`, () => {
      const result = helmLint({ valuesFiles: set.files });
      assert.equal(result.status, 0, `helm lint failed:\n${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /0 chart\(s\) failed/);
    });

    it(`helm template output with ${set.name} validates against the Kubernetes ${KUBE_VERSION} schemas (strict)`, () => {
      const result = helmTemplate({ valuesFiles: set.files });
      assert.equal(result.status, 0, `helm template failed:\n${result.stderr}`);
      const manifests = parseManifests(result.stdout);
      const file = join(work, `${set.name.replace(/[^a-z0-9]+/gi, '_')}.yaml`);
      writeFileSync(file, result.stdout);
      const validated = run(ensureTools().kubernetesValidate, [
        '-k',
        KUBE_VERSION,
        '--strict',
        file,
      ]);
      assert.equal(
        validated.status,
        0,
        `kubernetes-validate failed:\n${validated.stdout}\n${validated.stderr}`,
      );
      assert.doesNotMatch(validated.stdout + validated.stderr, /ERROR/);
      // Every built-in object was actually checked (not silently skipped for a missing schema).
      const passed = (validated.stdout.match(/ passed for resource /g) ?? []).length;
      const builtIn = manifests.filter((m) => !CRD_KINDS.has(m.kind)).length;
      assert.equal(
        passed,
        builtIn,
        `validated ${passed} of ${builtIn} objects:\n${validated.stdout}`,
      );
    });
  }

  it('kubernetes-validate really rejects an invalid render (guard against a no-op validator)', () => {
    // extraEnv is passed through untyped by the chart: a bogus EnvVar field reaches the manifest.
    const result = helmTemplate({ set: ['extraEnv[0].name=X', 'extraEnv[0].valueFromm=oops'] });
    assert.equal(result.status, 0, result.stderr);
    const file = join(work, 'invalid.yaml');
    writeFileSync(file, result.stdout);
    const validated = run(ensureTools().kubernetesValidate, ['-k', KUBE_VERSION, '--strict', file]);
    assert.notEqual(validated.status, 0);
    assert.match(validated.stdout + validated.stderr, /'valueFromm' was unexpected/);
  });

  it('renders the expected objects with the production values', () => {
    const manifests = render({ valuesFiles: [PRODUCTION] });
    const kinds = manifests.map((m) => m.kind).sort();
    assert.deepEqual(kinds, [
      'ConfigMap',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
      'StatefulSet',
    ]);
    assert.equal(findKind(manifests, 'Secret').length, 0, 'the chart never renders a Secret');
    for (const m of manifests)
      assert.equal(m.metadata.namespace, 'security', `${m.kind} namespace`);
  });

  it('renders NOTES.txt with the checks a user runs (port-forward, /readyz, /metrics, logs)', () => {
    // helm template does not render NOTES.txt and `helm install --dry-run` needs a cluster, so
    // render it through tpl in a scratch copy of the chart.
    const copy = join(work, 'notes-chart');
    cpSync(CHART_DIR, copy, { recursive: true });
    cpSync(join(copy, 'templates', 'NOTES.txt'), join(copy, 'notes.tpl'));
    writeFileSync(
      join(copy, 'templates', 'zz-notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |\n' +
        '{{ tpl (.Files.Get "notes.tpl") . | indent 4 }}\n',
    );
    const manifests = render({ chartDir: copy, valuesFiles: [PRODUCTION] });
    const notes = at(
      manifests.find((m) => m.metadata.name === 'notes'),
      'data',
      'notes',
    ) as string;
    assert.match(
      notes,
      /kubectl -n security port-forward svc\/audit-cloudhsm-audit-forwarder 9464:9464/,
    );
    assert.match(notes, /curl -s http:\/\/127\.0\.0\.1:9464\/readyz/);
    assert.match(notes, /curl -s http:\/\/127\.0\.0\.1:9464\/metrics/);
    assert.match(notes, /kubectl -n security logs statefulset\/audit-cloudhsm-audit-forwarder/);
    assert.doesNotMatch(notes, /WARNING/, 'production values raise no warning');
    const defaults = render({ chartDir: copy });
    const defaultNotes = at(
      defaults.find((m) => m.metadata.name === 'notes'),
      'data',
      'notes',
    ) as string;
    assert.match(defaultNotes, /WARNING: aws.region is empty/);
  });
});

describe('helm chart: values.schema.json', { timeout: TOOLS_TIMEOUT_MS }, () => {
  const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >;

  it('is draft-07 and closes every object the chart owns', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    const open: string[] = [];
    const walk = (node: Record<string, unknown>, path: string): void => {
      if (node.properties !== undefined) {
        if (node.additionalProperties !== false) open.push(path || '(root)');
        for (const [key, child] of Object.entries(asRecord(node.properties))) {
          walk(asRecord(child), path === '' ? key : `${path}.${key}`);
        }
      }
    };
    walk(schema, '');
    // updateStrategy is a Kubernetes object (rollingUpdate.partition etc.): only `type` is typed.
    assert.deepEqual(open, ['updateStrategy']);
  });

  it('covers every value in values.yaml, and values.yaml documents every schema property', () => {
    const values = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as unknown;
    const missing: string[] = [];
    const undocumented: string[] = [];
    const walk = (value: unknown, node: Record<string, unknown>, path: string): void => {
      const props = asRecord(node.properties);
      if (node.properties === undefined) return; // pass-through object (Kubernetes type, map)
      const object = asRecord(value);
      for (const key of Object.keys(object)) {
        if (!(key in props)) missing.push(path === '' ? key : `${path}.${key}`);
        else walk(object[key], asRecord(props[key]), path === '' ? key : `${path}.${key}`);
      }
      for (const key of Object.keys(props)) {
        if (!(key in object) && !(path === '' && key === 'global')) {
          undocumented.push(path === '' ? key : `${path}.${key}`);
        }
      }
    };
    walk(values, schema, '');
    assert.deepEqual(missing, [], 'values without a schema entry');
    assert.deepEqual(undocumented, [], 'schema properties missing from values.yaml');
  });

  it('accepts values.yaml and every ci/*-values.yaml (ajv, no helm needed)', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const defaults = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.ok(validate(defaults), JSON.stringify(validate.errors));
    for (const name of CI_FILES) {
      const overrides = parseYaml(readFileSync(join(CI_DIR, name), 'utf8')) as unknown;
      const merged = deepMerge(defaults, asRecord(overrides));
      assert.ok(validate(merged), `${name}: ${JSON.stringify(validate.errors)}`);
    }
  });

  const bad: ReadonlyArray<{ name: string; values: Record<string, unknown>; expect: RegExp }> = [
    { name: 'replicaCount: "two"', values: { replicaCount: 'two' }, expect: /replicaCount/ },
    {
      name: 'replicaCount: 2 (no shared checkpoint store yet)',
      values: { replicaCount: 2 },
      expect: /replicaCount/,
    },
    { name: 'an unknown top-level key', values: { replicas: 1 }, expect: /replicas/ },
    { name: 'an unknown nested key', values: { kafka: { broker: 'a:9092' } }, expect: /broker/ },
    { name: 'log.level: verbose', values: { log: { level: 'verbose' } }, expect: /log/ },
    { name: 'http.port: -1', values: { http: { port: -1 } }, expect: /port/ },
    { name: 'service.port: 70000', values: { service: { port: 70000 } }, expect: /port/ },
    { name: 'http.port as a string', values: { http: { port: '9464' } }, expect: /port/ },
    {
      name: 'kafka.sasl.mechanism: SCRAM',
      values: { kafka: { sasl: { mechanism: 'SCRAM' } } },
      expect: /mechanism/,
    },
    {
      name: 'kafka.brokers without a port',
      values: { kafka: { brokers: ['broker-1'] } },
      expect: /brokers/,
    },
    { name: 'aws.region: Ireland', values: { aws: { region: 'Ireland' } }, expect: /region/ },
    {
      name: 'source.startPosition: yesterday',
      values: { source: { startPosition: 'yesterday' } },
      expect: /startPosition/,
    },
    { name: 'persistence.size: lots', values: { persistence: { size: 'lots' } }, expect: /size/ },
    {
      name: 'pipeline.maxInFlightEvents: 0',
      values: { pipeline: { maxInFlightEvents: 0 } },
      expect: /maxInFlightEvents/,
    },
    {
      name: 'a password value in values',
      values: { kafka: { sasl: { password: 'hunter2' } } },
      expect: /password/,
    },
  ];
  for (const testCase of bad) {
    it(`makes helm template and helm lint fail on ${testCase.name}`, () => {
      const file = join(work, `bad-${testCase.name.replace(/[^a-z0-9]+/gi, '_')}.yaml`);
      writeFileSync(file, stringifyYaml(testCase.values));
      const template = helmTemplate({ valuesFiles: [file] });
      assert.notEqual(template.status, 0, `helm template accepted ${testCase.name}`);
      assert.match(template.stderr, /values don't meet the specifications of the schema/);
      assert.match(template.stderr, testCase.expect);
      const lint = helmLint({ valuesFiles: [file] });
      assert.notEqual(lint.status, 0, `helm lint accepted ${testCase.name}`);
    });
  }

  it('fails when a value type is broken in a copy of the production values file', () => {
    const values = asRecord(parseYaml(readFileSync(PRODUCTION, 'utf8')));
    asRecord(values.kafka).topicPartitions = 'six';
    const file = join(work, 'production-broken.yaml');
    writeFileSync(file, stringifyYaml(values));
    const result = helmTemplate({ valuesFiles: [file] });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /topicPartitions/);
  });

  const inconsistent: ReadonlyArray<{ name: string; set: string[]; expect: RegExp }> = [
    {
      name: 'SASL without the existing Secret',
      set: ['kafka.sasl.mechanism=scram-sha-512', 'kafka.sasl.username=u'],
      expect: /kafka\.sasl\.existingSecret\.name is required/,
    },
    {
      name: 'SASL without TLS (credentials in clear text)',
      set: [
        'kafka.brokers={b:9092}',
        'kafka.sasl.mechanism=plain',
        'kafka.sasl.username=u',
        'kafka.sasl.existingSecret.name=kafka-sasl',
      ],
      expect: /kafka\.sasl\.mechanism is "plain" but kafka\.ssl\.enabled is false.*allowWithoutTls/,
    },
    {
      name: 'OpenSearch basic auth over http://',
      set: [
        'opensearch.url=http://os:9200',
        'opensearch.username=u',
        'opensearch.existingSecret.name=os-auth',
      ],
      expect: /opensearch\.url is http:\/\/ and opensearch\.username is set.*allowHttpBasicAuth/,
    },
    {
      name: 'OpenSearch basic auth without the existing Secret',
      set: ['opensearch.url=https://os:9200', 'opensearch.username=u'],
      expect: /opensearch\.existingSecret\.name is required/,
    },
    {
      name: 'a grace period shorter than the drain deadline',
      set: ['terminationGracePeriodSeconds=30', 'pipeline.shutdownTimeoutMs=45000'],
      expect:
        /terminationGracePeriodSeconds \(30 s\) must be greater than pipeline\.shutdownTimeoutMs/,
    },
    {
      name: 'a restricted egress without AWS CIDRs',
      set: ['networkPolicy.enabled=true'],
      expect: /networkPolicy\.egress\.aws\.cidrs is empty/,
    },
    {
      name: 'Kafka brokers the NetworkPolicy would block',
      set: [
        'networkPolicy.enabled=true',
        'networkPolicy.egress.aws.cidrs={10.0.0.0/8}',
        'kafka.brokers={k:9092}',
      ],
      expect: /networkPolicy\.egress\.kafka\.cidrs and \.to are empty/,
    },
  ];
  // helm template (and install) only: helm lint runs templates in lint mode, where fail is lenient.
  it('refuses to render with no sink enabled, naming both keys', () => {
    const result = helmTemplate({ noSink: true });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /no sink is enabled: set kafka\.brokers and\/or opensearch\.url/);
  });

  for (const testCase of inconsistent) {
    it(`fails the render with the key to fix on ${testCase.name}`, () => {
      const result = helmTemplate({ set: testCase.set });
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, testCase.expect);
    });
  }

  it('renders credentials without TLS only with the lab settings, and passes them to the app', () => {
    const config = renderedConfig(
      render({
        set: [
          'kafka.brokers={b:9092}',
          'kafka.sasl.mechanism=plain',
          'kafka.sasl.username=u',
          'kafka.sasl.existingSecret.name=kafka-sasl',
          'kafka.sasl.allowWithoutTls=true',
          'opensearch.url=http://os:9200',
          'opensearch.username=u',
          'opensearch.existingSecret.name=os-auth',
          'opensearch.allowHttpBasicAuth=true',
        ],
      }),
    );
    assert.equal(at(config, 'kafka', 'sasl', 'allowWithoutTls'), true);
    assert.equal(at(config, 'opensearch', 'allowHttpBasicAuth'), true);
  });
});

describe('helm chart: the rendered StatefulSet', { timeout: TOOLS_TIMEOUT_MS }, () => {
  it('runs one non-root pod with a read-only root filesystem and no capabilities', () => {
    const sts = statefulSet(render());
    assert.equal(at(sts, 'spec', 'replicas'), 1);
    const pod = asRecord(at(sts, 'spec', 'template', 'spec'));
    const podSc = asRecord(pod.securityContext);
    const sc = asRecord(container(sts).securityContext);
    assert.equal(podSc.runAsNonRoot, true);
    assert.ok(
      Number.isInteger(podSc.runAsUser) && (podSc.runAsUser as number) > 0,
      'numeric non-root uid',
    );
    assert.deepEqual(podSc.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(sc.runAsNonRoot, true);
    assert.ok(Number.isInteger(sc.runAsUser) && (sc.runAsUser as number) > 0);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(at(sc, 'capabilities', 'drop'), ['ALL']);
    assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(pod.automountServiceAccountToken, false);
    // The only writable paths: the checkpoint volume and an emptyDir /tmp.
    const mounts = asArray(container(sts).volumeMounts).map(asRecord);
    const writable = mounts.filter((m) => m.readOnly !== true).map((m) => m.mountPath);
    assert.deepEqual(writable.sort(), ['/tmp', '/var/lib/cloudhsm-audit-forwarder']);
    const tmp = asArray(pod.volumes)
      .map(asRecord)
      .find((v) => v.name === 'tmp');
    assert.ok(tmp?.emptyDir !== undefined, '/tmp is an emptyDir');
  });

  it('mounts the checkpoint PVC where the rendered config and CHECKPOINT_DIR point', () => {
    const manifests = render();
    const sts = statefulSet(manifests);
    const config = renderedConfig(manifests);
    const env = envOf(sts);
    const claims = asArray(at(sts, 'spec', 'volumeClaimTemplates')).map(asRecord);
    assert.equal(claims.length, 1);
    const claimName = at(claims[0], 'metadata', 'name') as string;
    const dataMount = mountPathOf(sts, claimName);
    const checkpointDir = at(config, 'checkpoint', 'dir') as string;
    assert.ok(posix.isAbsolute(checkpointDir), 'absolute checkpoint.dir');
    assert.ok(isUnder(checkpointDir, dataMount), `${checkpointDir} is on the volume ${dataMount}`);
    // Environment variables override the config file: CHECKPOINT_DIR must agree with it.
    assert.equal(env.get('CHECKPOINT_DIR'), checkpointDir);
    const deadLetter = at(config, 'deadLetter', 'file') as string;
    assert.ok(isUnder(deadLetter, dataMount), `${deadLetter} is on the volume`);
    assert.equal(env.get('DEAD_LETTER_FILE'), deadLetter);
    // CONFIG_FILE names the ConfigMap's config.json inside its mount.
    assert.equal(env.get('CONFIG_FILE'), posix.join(mountPathOf(sts, 'config'), 'config.json'));
    assert.equal(env.get('AWS_EC2_METADATA_DISABLED'), 'true');
  });

  it("keeps the chart's checkpoint path equal to the image's (Dockerfile ENV and VOLUME)", () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const checkpointDir = at(renderedConfig(render()), 'checkpoint', 'dir') as string;
    assert.match(dockerfile, new RegExp(`CHECKPOINT_DIR=${checkpointDir}\\b`));
    assert.match(dockerfile, new RegExp(`VOLUME \\[[^\\]]*"${dirname(checkpointDir)}"`));
  });

  it('wires probes to /healthz and /readyz on the metrics port, and drains before SIGKILL', () => {
    const manifests = render();
    const sts = statefulSet(manifests);
    const c = container(sts);
    const config = renderedConfig(manifests);
    const port = asArray(c.ports).map(asRecord)[0];
    assert.equal(port?.containerPort, at(config, 'http', 'port'));
    assert.equal(at(c, 'livenessProbe', 'httpGet', 'path'), '/healthz');
    assert.equal(at(c, 'startupProbe', 'httpGet', 'path'), '/healthz');
    assert.equal(at(c, 'readinessProbe', 'httpGet', 'path'), '/readyz');
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      assert.equal(at(c, probe, 'httpGet', 'port'), port?.name);
    }
    const grace = at(sts, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds') as number;
    assert.ok(grace * 1000 > (at(config, 'pipeline', 'shutdownTimeoutMs') as number));
    assert.ok(asRecord(c.resources).requests !== undefined, 'resource requests are set');
  });

  it('changes the checksum/config annotation when a config value changes, not otherwise', () => {
    const base = checksum(render());
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(checksum(render()), base, 'stable across renders');
    assert.notEqual(checksum(render({ set: ['log.level=debug'] })), base);
    assert.notEqual(checksum(render({ set: ['kafka.brokers={b-1:9092}'] })), base);
    assert.equal(checksum(render({ set: ['resources.requests.cpu=200m'] })), base);
  });

  it('annotates the ServiceAccount with the IRSA role', () => {
    const role = 'arn:aws:iam::123456789012:role/forwarder';
    const sa = only(render({ set: [`serviceAccount.roleArn=${role}`] }), 'ServiceAccount');
    assert.equal(at(sa, 'metadata', 'annotations', 'eks.amazonaws.com/role-arn'), role);
    const plain = only(render(), 'ServiceAccount');
    assert.equal(at(plain, 'metadata', 'annotations'), undefined);
  });

  it('mounts existing Secrets as files and points the *PasswordFile keys at them (no secret values)', () => {
    const file = join(CI_DIR, 'self-managed-values.yaml');
    const manifests = render({ valuesFiles: [file] });
    const sts = statefulSet(manifests);
    const config = renderedConfig(manifests);
    const volumes = asArray(at(sts, 'spec', 'template', 'spec', 'volumes')).map(asRecord);
    const secretFile = (volumeName: string): { secret: string; path: string } => {
      const volume = volumes.find((v) => v.name === volumeName);
      assert.ok(volume, `volume ${volumeName}`);
      const items = asArray(at(volume, 'secret', 'items')).map(asRecord);
      return {
        secret: at(volume, 'secret', 'secretName') as string,
        path: posix.join(mountPathOf(sts, volumeName), items[0]?.path as string),
      };
    };
    const kafka = secretFile('kafka-sasl');
    assert.equal(kafka.secret, 'audit-kafka-scram');
    assert.equal(at(config, 'kafka', 'sasl', 'passwordFile'), kafka.path);
    const os = secretFile('opensearch-auth');
    assert.equal(os.secret, 'opensearch-forwarder-credentials');
    assert.equal(at(config, 'opensearch', 'passwordFile'), os.path);
    const text = JSON.stringify(config);
    assert.doesNotMatch(text, /"password"\s*:/, 'no password value in the ConfigMap');
    assert.equal(findKind(manifests, 'Secret').length, 0);
  });

  it('wires the ServiceMonitor to the metrics Service port', () => {
    assert.equal(findKind(render(), 'ServiceMonitor').length, 0, 'off by default');
    const manifests = render({ valuesFiles: [PRODUCTION] });
    const monitor = only(manifests, 'ServiceMonitor');
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(at(monitor, 'metadata', 'labels', 'release'), 'kube-prometheus-stack');
    const selector = asRecord(at(monitor, 'spec', 'selector', 'matchLabels'));
    const expressions = asArray(at(monitor, 'spec', 'selector', 'matchExpressions')).map(asRecord);
    const selected = findKind(manifests, 'Service').filter((svc) => {
      const labels = svc.metadata.labels ?? {};
      return (
        Object.entries(selector).every(([k, v]) => labels[k] === v) &&
        expressions.every((e) => asArray(e.values).includes(labels[e.key as string]))
      );
    });
    assert.equal(selected.length, 1, 'selects exactly the metrics Service');
    const endpoint = asRecord(asArray(at(monitor, 'spec', 'endpoints'))[0]);
    assert.equal(endpoint.path, '/metrics');
    const portNames = asArray(at(selected[0], 'spec', 'ports')).map((p) => asRecord(p).name);
    assert.ok(portNames.includes(endpoint.port), `endpoint port ${String(endpoint.port)} exists`);
  });

  it('renders a NetworkPolicy: ingress only to the metrics port, egress to DNS, AWS, Kafka, OpenSearch', () => {
    const policy = only(render({ valuesFiles: [PRODUCTION] }), 'NetworkPolicy');
    const ingress = asArray(at(policy, 'spec', 'ingress')).map(asRecord);
    assert.equal(ingress.length, 1);
    assert.deepEqual(ingress[0]?.ports, [{ protocol: 'TCP', port: 'http-metrics' }]);
    const egress = asArray(at(policy, 'spec', 'egress')).map(asRecord);
    const ports = egress.map((rule) => asArray(rule.ports).map((p) => asRecord(p).port));
    assert.deepEqual(ports, [[53, 53], [443], [9096], [443]]);
    for (const rule of egress.slice(1)) assert.ok(asArray(rule.to).length > 0, 'egress has peers');
    assert.deepEqual(at(policy, 'spec', 'policyTypes'), ['Ingress', 'Egress']);
  });

  it('renders a PodDisruptionBudget that never blocks a drain of the single replica', () => {
    const pdb = only(render({ valuesFiles: [PRODUCTION] }), 'PodDisruptionBudget');
    assert.equal(at(pdb, 'spec', 'maxUnavailable'), 1);
    assert.equal(at(pdb, 'spec', 'minAvailable'), undefined);
  });
});

describe(
  "helm chart: the rendered config passes the app's `config validate`",
  { timeout: TOOLS_TIMEOUT_MS },
  () => {
    const CONTAINER_PREFIX = '/etc/cloudhsm-audit-forwarder/';
    // What the kubelet would mount: PEM armour for certificates and keys (config validate checks
    // it), a placeholder for passwords.
    const mountedStandIn = (path: string): string => {
      const label = path.endsWith('.key') ? 'PRIVATE KEY' : 'CERTIFICATE';
      return /\.(crt|key)$/.test(path)
        ? `-----BEGIN ${label}-----\nMIIBstandin\n-----END ${label}-----\n`
        : 'not-a-real-secret\n';
    };

    for (const set of VALUE_SETS) {
      it(`with ${set.name}`, () => {
        const manifests = render({ valuesFiles: set.files });
        const config = renderedConfig(manifests);
        const env = envOf(statefulSet(manifests));
        // Paths of mounted secrets/certificates exist only in the pod: map them into a scratch
        // directory and create the files, the way the kubelet would have.
        const root = mkdtempSync(join(work, 'pod-'));
        let text = JSON.stringify(config);
        const paths = new Set<string>(
          text.match(/"\/etc\/cloudhsm-audit-forwarder\/[^"]+"/g) ?? [],
        );
        for (const quoted of paths) {
          const path = JSON.parse(quoted) as string;
          if (path === env.get('CONFIG_FILE')) continue;
          const local = join(root, path.slice(CONTAINER_PREFIX.length));
          mkdirSync(dirname(local), { recursive: true });
          writeFileSync(local, mountedStandIn(path));
          text = text.split(quoted).join(JSON.stringify(local));
        }
        const configFile = join(root, 'config.json');
        writeFileSync(configFile, text);
        // The pod's environment (literal values), nothing from the test runner's environment.
        const podEnv: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...Object.fromEntries([...env].filter(([name]) => name !== 'NODE_OPTIONS')),
          CONFIG_FILE: configFile,
        };
        const result = run(
          process.execPath,
          ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli.ts'), 'config', 'validate'],
          { env: podEnv },
        );
        assert.equal(
          result.status,
          0,
          `config validate rejected the chart's config (${set.name}):\n${result.stderr}\n${text}`,
        );
        assert.match(result.stdout, /configuration OK/);
      });
    }
  },
);

function deepMerge(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(current)
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
