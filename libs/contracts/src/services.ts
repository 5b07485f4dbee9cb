/**
 * The four service kinds of the mesh: each is a package under services/, a NATS user of its own
 * (bus-permissions.ts) and a unit that scales on its own.
 */
export const ServiceName = {
  TabRegistry: 'tab-registry',
  Provisioner: 'provisioner',
  SessionCreator: 'session-creator',
  Gateway: 'gateway',
} as const;
export type ServiceName = (typeof ServiceName)[keyof typeof ServiceName];

/** The order a launcher starts them in: the gateway last, so it answers only once what it talks to is there. */
export const ServiceStartOrder = [
  ServiceName.TabRegistry,
  ServiceName.Provisioner,
  ServiceName.SessionCreator,
  ServiceName.Gateway,
] as const satisfies readonly ServiceName[];
