import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  AuthorizationError,
  connect,
  type NatsConnection,
  PermissionViolationError,
  type Status,
} from '@nats-io/transport-node';
import {
  Buckets,
  BusIdentity,
  inboxPrefix,
  kvStream,
  kvSubjectPrefix,
  provisionSubject,
  QueueGroups,
  ServiceIdentities,
  Streams,
  Subjects,
  TabState,
} from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// DESIGN.md Access, "Bus": every service kind connects as its own NATS user with allow-lists
// (BusPermissions); nothing is anonymous. The rest of the suite runs with these users, which shows
// each can do its work; here each tries what it must not do, and the server refuses it.
describe('bus permissions (real nats-server with the BusPermissions users)', () => {
  let mesh: TabmeshMesh;
  const org = uniqueId('perm');
  const conns: NatsConnection[] = [];

  const users = () => {
    if (!mesh.users) throw new Error('the mesh runs an open server');
    return mesh.users;
  };
  const as = async (identity: BusIdentity): Promise<NatsConnection> => {
    const nc = await connect({ servers: mesh.natsUrl, name: `perm-${identity}`, ...users().connectOptions(identity) });
    conns.push(nc);
    return nc;
  };

  /** The next permission violation the server reports on this connection (an async error status). */
  const nextViolation = (nc: NatsConnection): Promise<PermissionViolationError> =>
    (async () => {
      for await (const s of nc.status() as AsyncIterable<Status>) {
        if (s.type === 'error' && s.error instanceof PermissionViolationError) return s.error;
      }
      throw new Error('connection closed without a violation');
    })();

  /** A plain publish the server must refuse: it says so, and the message goes nowhere. */
  const expectPublishRefused = async (nc: NatsConnection, subject: string) => {
    const violation = nextViolation(nc);
    nc.publish(subject, '{}');
    await nc.flush();
    const err = await violation;
    expect(err.operation).toBe('publish');
    expect(err.subject).toBe(subject);
  };

  /** A subscription the server must refuse: the subscription closes with the violation. */
  const expectSubscribeRefused = async (nc: NatsConnection, subject: string, queue?: string) => {
    const sub = nc.subscribe(subject, queue ? { queue } : {});
    await nc.flush();
    const closed = await sub.closed;
    expect(closed).toBeInstanceOf(PermissionViolationError);
    expect((closed as PermissionViolationError).operation).toBe('subscription');
    expect((closed as PermissionViolationError).subject).toBe(subject);
  };

  /** A JetStream API request the server must refuse: the violation names its subject, the request fails. */
  const expectApiRefused = async (nc: NatsConnection, call: () => Promise<unknown>, subject: string | RegExp) => {
    const violation = nextViolation(nc);
    await expect(call()).rejects.toThrow();
    const err = await violation;
    expect(err.operation).toBe('publish');
    if (typeof subject === 'string') expect(err.subject.startsWith(subject)).toBe(true);
    else expect(err.subject).toMatch(subject);
  };

  beforeAll(async () => {
    mesh = await setup({ services: { gateway: 1 } });
    // One provisioned task, so `sandbox-secrets` holds a credential to be refused.
    const tab = await mesh.create(org, 't');
    await mesh.waitForState(org, 't', tab.id, [TabState.Ready], 15_000);
  });
  afterAll(async () => {
    await Promise.allSettled(conns.map((nc) => nc.close()));
    await mesh.stop();
  });

  it('refuses an anonymous connection and a wrong password', async () => {
    await expect(connect({ servers: mesh.natsUrl, reconnect: false })).rejects.toBeInstanceOf(AuthorizationError);
    await expect(
      connect({ servers: mesh.natsUrl, reconnect: false, user: BusIdentity.Gateway, pass: 'not-the-password' }),
    ).rejects.toBeInstanceOf(AuthorizationError);
  });

  it('refuses the gateway publishing a provision job, raw or through JetStream, and nothing is queued', async () => {
    const nc = await as(BusIdentity.Gateway);
    const subject = provisionSubject(org, 'forged');
    await expectPublishRefused(nc, subject);
    await expectApiRefused(nc, () => jetstream(nc).publish(subject, '{}', { timeout: 1000 }), subject);
    const info = await mesh.bus.jsm.streams.info(Streams.provision.name, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBeUndefined();
  });

  it('refuses the gateway any read of the sandbox secrets, and raw subscriptions to $KV.tasks', async () => {
    const nc = await as(BusIdentity.Gateway);
    const secrets = await new Kvm(nc).open(Buckets.sandboxSecrets, { allow_direct: true });
    const sandbox = (await mesh.tasks.getTask(org, 't'))?.value.sandbox;
    expect(sandbox).toBeTruthy();
    await expectApiRefused(
      nc,
      () => secrets.get(sandbox?.id ?? 'x'),
      `$JS.API.DIRECT.GET.${kvStream(Buckets.sandboxSecrets)}`,
    );
    await expectApiRefused(nc, () => secrets.watch(), `$JS.API.CONSUMER.CREATE.${kvStream(Buckets.sandboxSecrets)}`);
    await expectApiRefused(nc, () => secrets.status(), `$JS.API.STREAM.INFO.${kvStream(Buckets.sandboxSecrets)}`);
    await expectSubscribeRefused(nc, `${kvSubjectPrefix(Buckets.sandboxSecrets)}.>`);
    await expectSubscribeRefused(nc, `${kvSubjectPrefix(Buckets.tasks)}.>`);
    // Nor another service's replies (where a worker's secret reads are answered).
    await expectSubscribeRefused(nc, '_INBOX.session-creator.>');
    // What the gateway does need still works: it reads tasks, which carry no credential.
    const tasks = await new Kvm(nc).open(Buckets.tasks, { allow_direct: true });
    const entry = await tasks.get(`${org}.t`);
    expect(entry?.string()).not.toMatch(/endpoint|token/);
  });

  it('lets the session-creator read the secret the gateway may not, and not write it', async () => {
    const nc = await as(BusIdentity.SessionCreator);
    const secrets = await new Kvm(nc).open(Buckets.sandboxSecrets, { allow_direct: true });
    const sandbox = (await mesh.tasks.getTask(org, 't'))?.value.sandbox;
    expect((await secrets.get(sandbox?.id ?? 'x'))?.json()).toMatchObject({ id: sandbox?.id });
    await expectPublishRefused(nc, `${kvSubjectPrefix(Buckets.sandboxSecrets)}.forged`);
  });

  it('refuses every service user creating or updating a stream or a durable consumer', async () => {
    for (const identity of ServiceIdentities) {
      const nc = await as(identity);
      const jsm = await jetstreamManager(nc);
      const { config } = await mesh.bus.jsm.streams.info(Streams.provision.name);
      // Refused at the update itself, or already at the stream-info it starts with (the gateway may not read PROVISION).
      await expectApiRefused(
        nc,
        () => jsm.streams.update(Streams.provision.name, { ...config, max_msgs: 1 }),
        new RegExp(`^\\$JS\\.API\\.STREAM\\.(UPDATE|INFO)\\.${Streams.provision.name}$`),
      );
      await expectApiRefused(
        nc,
        () => jsm.streams.add({ name: `ROGUE_${identity.replace(/-/g, '_')}`, subjects: ['rogue.>'] }),
        '$JS.API.STREAM.CREATE.',
      );
      await expectApiRefused(
        nc,
        () => jsm.consumers.update(Streams.provision.name, Streams.provision.consumer, { max_deliver: 100 }),
        `$JS.API.CONSUMER.`,
      );
    }
    const consumer = await mesh.bus.jsm.consumers.info(Streams.provision.name, Streams.provision.consumer);
    expect(consumer.config.max_deliver).not.toBe(100);
    expect((await mesh.bus.jsm.streams.info(Streams.provision.name)).config.max_msgs).not.toBe(1);
  });

  it('refuses anyone but tab-registry answering tab.* (subscribing to the request subjects)', async () => {
    for (const identity of [...ServiceIdentities, BusIdentity.Setup].filter((i) => i !== BusIdentity.TabRegistry)) {
      const nc = await as(identity);
      await expectSubscribeRefused(nc, Subjects.tabCreate, QueueGroups.tabRegistry);
      await expectSubscribeRefused(nc, Subjects.tabClose);
    }
    const registry = await as(BusIdentity.TabRegistry);
    const sub = registry.subscribe(Subjects.tabRead, { queue: `${QueueGroups.tabRegistry}-probe` });
    await registry.flush();
    await registry.flush(); // a refusal would have arrived before the second round trip
    expect(sub.isClosed()).toBe(false);
    sub.unsubscribe();
  });

  it("lets tab-registry answer into the gateway's inbox and an operator's, never into a worker's or the set-up's", async () => {
    const registry = await as(BusIdentity.TabRegistry);
    for (const identity of [BusIdentity.Provisioner, BusIdentity.SessionCreator, BusIdentity.Setup])
      await expectPublishRefused(registry, `${inboxPrefix(identity)}.forged`);
    const gateway = await as(BusIdentity.Gateway);
    const toGateway = gateway.subscribe(`${inboxPrefix(BusIdentity.Gateway)}.probe`, { max: 1 });
    const toOperator = mesh.nc.subscribe('_INBOX.operator-probe', { max: 1 });
    await Promise.all([gateway.flush(), mesh.nc.flush()]);
    registry.publish(`${inboxPrefix(BusIdentity.Gateway)}.probe`, 'reply');
    registry.publish('_INBOX.operator-probe', 'reply');
    await registry.flush();
    const received = async (sub: typeof toGateway) => {
      for await (const m of sub) return m.string();
      return null;
    };
    expect(await Promise.all([received(toGateway), received(toOperator)])).toEqual(['reply', 'reply']);
  });

  it('refuses the setup identity the data: no KV read, no job, no request', async () => {
    const nc = await as(BusIdentity.Setup);
    await expectPublishRefused(nc, Subjects.tabCreate);
    await expectPublishRefused(nc, provisionSubject(org, 'forged'));
    await expectApiRefused(
      nc,
      async () => (await new Kvm(nc).open(Buckets.sandboxSecrets, { allow_direct: true })).get('x'),
      `$JS.API.DIRECT.GET.${kvStream(Buckets.sandboxSecrets)}`,
    );
  });
});
