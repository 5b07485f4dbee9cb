import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Bus, ensureBus, loadConfig } from '@tabmesh/runtime';
import { NatsServer } from './nats-server.js';

export type BusOnServer = { server: NatsServer; nc: NatsConnection; bus: Bus; stop: () => Promise<void> };

/** A fresh nats-server with the bus set up on it (default settings), for tests of one store or one part. */
export async function startBusOnServer(): Promise<BusOnServer> {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url, ...server.adminAuth });
  const bus = await ensureBus(nc, loadConfig({ NATS_URL: server.url }));
  return {
    server,
    nc,
    bus,
    stop: async () => {
      await nc.close();
      await server.stop();
    },
  };
}
