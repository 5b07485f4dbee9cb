/**
 * The deployment files as an operator would apply them: every Kubernetes manifest validates against
 * the Kubernetes and KEDA schemas (kubernetes-models), and carries what issue 13 asks of it (probes,
 * resources, disruption budgets, a hardened securityContext, a grace period above the drain timeout,
 * secrets, a provider that runs as shipped, KEDA on the right consumers). The compose file is checked
 * for what the containers under test depend on. No cluster and no Docker needed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Streams } from '@tabmesh/contracts';
import { isRemoteProvider, RemoteProviders } from '@tabmesh/providers';
import { loadConfig } from '@tabmesh/runtime';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const repo = join(import.meta.dirname, '..', '..');
const k8sDir = join(repo, 'deploy', 'k8s');

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
};
// The manifests are plain data; the shapes below are the parts the assertions read.
type Probe = { httpGet?: { path: string; port: number | string } };
type Container = {
  name: string;
  image: string;
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
};
type PodSpec = {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
};
type Workload = Manifest & {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

/** Each kind the manifests may use, with the model that validates it. Any other kind fails the test. */
const Models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

function validate(m: Manifest): void {
  const Model = Models[`${m.apiVersion}/${m.kind}`];
  if (!Model) throw new Error(`${m.kind} ${m.metadata?.name}: unknown kind ${m.apiVersion}/${m.kind}`);
  new Model(m as never).validate();
}

const files = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml'));
const manifests: (Manifest & { file: string })[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8'))
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null)
    .map((m) => ({ ...m, file })),
);
const ofKind = <T extends Manifest>(kind: string) =>
  manifests.filter((m) => m.kind === kind) as unknown as (T & { file: string })[];
const named = <T extends Manifest>(kind: string, name: string): T => {
  const found = ofKind<T>(kind).find((m) => m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

const workloads = [...ofKind<Workload>('Deployment'), ...ofKind<Workload>('StatefulSet')];
const serviceNames = readdirSync(join(repo, 'services'));
const configMap = named<Manifest & { data: Record<string, string> }>('ConfigMap', 'tabmesh-config');
const secrets = ofKind<Manifest & { stringData?: Record<string, string>; data?: Record<string, string> }>('Secret');
const secretKeys = (name: string): string[] => {
  const s = secrets.find((x) => x.metadata.name === name);
  return s ? Object.keys({ ...s.stringData, ...s.data }) : [];
};

describe('Kubernetes manifests', () => {
  it('parse and validate against the Kubernetes and KEDA schemas, in namespace tabmesh', () => {
    expect(files.sort()).toEqual(['keda.yaml', 'nats.yaml', 'tabmesh.yaml']);
    expect(manifests.length).toBeGreaterThan(10);
    for (const m of manifests) {
      expect(() => validate(m), `${m.file}: ${m.kind} ${m.metadata.name}`).not.toThrow();
      if (m.kind !== 'Namespace') expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).toBe('tabmesh');
    }
  });

  it('the validator refuses a broken manifest and an unknown kind', () => {
    const deployment = named<Workload>('Deployment', 'tabmesh-gateway');
    expect(() =>
      validate({
        ...deployment,
        spec: { ...deployment.spec, template: { ...deployment.spec.template, spec: { containers: 'gateway' } } },
      } as never),
    ).toThrow(/must be array/);
    expect(() => validate({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } })).toThrow(/unknown kind/);
  });

  it('runs every service and a 3-node NATS StatefulSet, each from the images deploy/ builds', () => {
    const deployments = ofKind<Workload>('Deployment')
      .map((d) => d.metadata.name)
      .sort();
    expect(deployments).toEqual(serviceNames.map((s) => `tabmesh-${s}`).sort());
    for (const d of ofKind<Workload>('Deployment')) {
      const [container] = d.spec.template.spec.containers;
      const service = d.metadata.name.replace(/^tabmesh-/, '');
      expect(container?.image).toMatch(/^tabmesh\/services:/);
      expect(container?.args).toEqual([`/app/services/${service}.js`]);
      expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
    }
    const nats = named<Workload>('StatefulSet', 'tabmesh-nats');
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.template.spec.containers[0]?.image).toMatch(/^tabmesh\/nats:/);
  });

  it('gives the gateway a Service on its HTTP and WebSocket ports', () => {
    const svc = named<
      Manifest & {
        spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
      }
    >('Service', 'tabmesh-gateway');
    expect(svc.spec.selector).toEqual(named<Workload>('Deployment', 'tabmesh-gateway').spec.template.metadata.labels);
    expect(svc.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 8080, 'http'],
      ['ws', 8081, 'ws'],
    ]);
  });

  it('probes, bounds and hardens every container, and sets a grace period above the drain timeout', () => {
    const drainMs = Number(configMap.data.TABMESH_DRAIN_TIMEOUT_MS ?? loadConfig({}).TABMESH_DRAIN_TIMEOUT_MS);
    expect(drainMs).toBeGreaterThan(0);
    for (const w of workloads) {
      const pod = w.spec.template.spec;
      const label = `${w.kind} ${w.metadata.name}`;
      expect(pod.securityContext?.runAsNonRoot, label).toBe(true);
      expect(pod.securityContext?.runAsUser, label).toBeGreaterThan(0);
      if (w.kind === 'Deployment')
        expect((pod.terminationGracePeriodSeconds ?? 30) * 1000, label).toBeGreaterThan(drainMs + 5000);
      for (const c of pod.containers) {
        const ports = new Set((c.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          expect(probe?.httpGet, `${label}: probe`).toBeDefined();
          expect(
            ports.has(probe?.httpGet?.port as never),
            `${label}: probe port ${probe?.httpGet?.port} is declared`,
          ).toBe(true);
        }
        expect(c.resources?.requests?.cpu, label).toBeDefined();
        expect(c.resources?.requests?.memory, label).toBeDefined();
        expect(c.resources?.limits?.memory, label).toBeDefined();
        expect(c.securityContext, label).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
    // The workers answer on TABMESH_OPS_PORT, the port their probes use.
    for (const d of ofKind<Workload>('Deployment').filter((x) => x.metadata.name !== 'tabmesh-gateway')) {
      expect(d.spec.template.spec.containers[0]?.ports).toEqual([
        { name: 'ops', containerPort: Number(configMap.data.TABMESH_OPS_PORT) },
      ]);
    }
  });

  it('covers every workload with a PodDisruptionBudget', () => {
    const pdbs = ofKind<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>(
      'PodDisruptionBudget',
    );
    for (const w of workloads) {
      const labels = w.spec.template.metadata.labels;
      const covering = pdbs.filter((p) =>
        Object.entries(p.spec.selector.matchLabels).every(([k, v]) => labels[k] === v),
      );
      expect(covering, `${w.kind} ${w.metadata.name}`).toHaveLength(1);
    }
  });

  it('configures a provider that runs in the cluster as shipped, with R3 on the NATS Service', () => {
    const provider = configMap.data.TABMESH_PROVIDER ?? '';
    expect(provider).not.toBe('local'); // its sandboxes live on one pod's loopback
    if (isRemoteProvider(provider)) {
      // A remote provider runs only when its SDK is installed and its credentials come from a Secret.
      expect(() =>
        createRequire(join(repo, 'libs', 'providers', 'package.json')).resolve(RemoteProviders[provider].peer),
      ).not.toThrow();
    } else {
      expect(provider).toBe('sim');
      expect(configMap.data.TABMESH_SIM_LEDGER).toBe('nats'); // one ledger for pods on different machines
    }
    expect(configMap.data.TABMESH_REPLICAS).toBe('3');
    expect(configMap.data.NATS_URL).toBe('nats://tabmesh-nats:4222');
    named('Service', 'tabmesh-nats');
  });

  it('reads the JWT key and the NATS users from Secrets, and every reference names one that exists', () => {
    const gateway = named<Workload>('Deployment', 'tabmesh-gateway').spec.template.spec.containers[0];
    expect(gateway?.envFrom).toContainEqual({ secretRef: { name: 'tabmesh-jwt' } });
    expect(secretKeys('tabmesh-jwt')).toEqual(['TABMESH_JWT_SECRET']);
    for (const d of ofKind<Workload>('Deployment')) {
      for (const c of d.spec.template.spec.containers) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) named('ConfigMap', from.configMapRef.name);
          if (from.secretRef)
            expect(
              secrets.map((s) => s.metadata.name),
              d.metadata.name,
            ).toContain(from.secretRef.name);
        }
        const refs = (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
        expect(
          refs.map((r) => r.name),
          d.metadata.name,
        ).toContain('tabmesh-nats-users');
        for (const ref of refs)
          expect(secretKeys(ref.name), `${d.metadata.name}: ${ref.name}/${ref.key}`).toContain(ref.key);
      }
    }
  });

  it('configures NATS from deploy/nats (verbatim) with the monitoring port KEDA reads', () => {
    const cm = named<Manifest & { data: Record<string, string> }>('ConfigMap', 'tabmesh-nats-config');
    for (const file of ['tabmesh.conf', 'accounts.conf', 'nats-k8s.conf']) {
      expect(cm.data[file], `${file} in deploy/k8s/nats.yaml differs from deploy/nats/${file}`).toBe(
        readFileSync(join(repo, 'deploy', 'nats', file), 'utf8'),
      );
    }
    const nats = named<Workload>('StatefulSet', 'tabmesh-nats');
    expect(nats.spec.template.spec.containers[0]?.args).toEqual(['-c', '/etc/nats/nats-k8s.conf']);
    expect(nats.spec.template.spec.volumes).toContainEqual({
      name: 'config',
      configMap: { name: 'tabmesh-nats-config' },
    });
    expect(nats.spec.template.spec.containers[0]?.ports).toContainEqual({ name: 'monitor', containerPort: 8222 });
    const routes = named<Manifest & { spec: { clusterIP: string; ports: { name: string; port: number }[] } }>(
      'Service',
      'tabmesh-nats-routes',
    );
    expect(routes.spec.clusterIP).toBe('None');
    expect(routes.spec.ports).toContainEqual({ name: 'monitor', port: 8222, targetPort: 'monitor' });
    expect(cm.data['tabmesh.conf']).toMatch(/^http: 0\.0\.0\.0:8222$/m);
  });

  it('scales each worker kind with KEDA on its own consumer of libs/contracts', () => {
    type Trigger = { type: string; metadata: Record<string, string> };
    const scaled = ofKind<
      Manifest & { spec: { scaleTargetRef: { name: string }; minReplicaCount: number; triggers: Trigger[] } }
    >('ScaledObject');
    const expected = [
      { target: 'tabmesh-provisioner', stream: Streams.provision.name, consumer: Streams.provision.consumer },
      { target: 'tabmesh-session-creator', stream: Streams.sessions.name, consumer: Streams.sessions.consumer },
    ];
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(expected.map((e) => e.target));
    for (const e of expected) {
      const so = scaled.find((s) => s.spec.scaleTargetRef.name === e.target);
      expect(so?.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(so?.spec.triggers).toHaveLength(1);
      const [trigger] = so?.spec.triggers ?? [];
      expect(trigger?.type).toBe('nats-jetstream');
      expect(trigger?.metadata).toMatchObject({
        account: '$G',
        stream: e.stream,
        consumer: e.consumer,
        natsServerMonitoringEndpoint: 'tabmesh-nats-routes.tabmesh.svc.cluster.local:8222',
      });
      expect(Number(trigger?.metadata.lagThreshold)).toBeGreaterThan(0);
      // KEDA owns the replica count; an applied `replicas` would reset it on every apply.
      expect(named<Workload>('Deployment', e.target).spec.replicas).toBeUndefined();
    }
  });
});

describe('compose file', () => {
  type ComposeService = {
    container_name?: string;
    ports?: string[];
    command?: string[];
    environment?: Record<string, string>;
    stop_grace_period?: string;
  };
  const compose = parse(readFileSync(join(repo, 'deploy', 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };

  it('names the containers of DESIGN.md and leaves the workers scalable', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'gateway',
      'nats-1',
      'nats-2',
      'nats-3',
      'provisioner',
      'session-creator',
      'tab-registry',
    ]);
    for (const n of ['nats-1', 'nats-2', 'nats-3']) expect(compose.services[n]?.container_name).toBe(n);
    expect(compose.services.gateway?.container_name).toBe('gateway');
    // A fixed container name would make `--scale` fail.
    for (const s of ['tab-registry', 'provisioner', 'session-creator'])
      expect(compose.services[s]?.container_name).toBeUndefined();
    for (const s of serviceNames) expect(compose.services[s]?.command).toEqual([`/app/services/${s}.js`]);
  });

  it('publishes only the gateway, on 127.0.0.1, and runs R3 with a grace period above the drain', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'gateway') {
        expect(s.ports).toEqual([
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own variable substitution, kept literal in the file
          '127.0.0.1:${GATEWAY_HTTP_PORT:-8080}:${GATEWAY_HTTP_PORT:-8080}',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own variable substitution, kept literal in the file
          '127.0.0.1:${GATEWAY_WS_PORT:-8081}:${GATEWAY_WS_PORT:-8081}',
        ]);
        expect(s.environment?.GATEWAY_HOST).toBe('0.0.0.0');
      } else {
        expect(s.ports, name).toBeUndefined();
      }
      if (serviceNames.includes(name)) {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own variable substitution, kept literal in the file
        expect(s.environment?.TABMESH_REPLICAS, name).toBe('${TABMESH_REPLICAS:-3}');
        expect(Number.parseInt(s.stop_grace_period ?? '10', 10) * 1000, name).toBeGreaterThan(
          loadConfig({}).TABMESH_DRAIN_TIMEOUT_MS,
        );
      }
    }
  });
});
