/**
 * The bare parts tabmesh is built from, in their own process like the mesh's services: a NATS echo
 * responder, a trivial hono route on the gateway's HTTP server (uWS) and, for comparison, on
 * @hono/node-server, and a uWS topic publish. Their round trips are the floors the mesh's figures
 * are compared with.
 */

import uWS from 'uWebSockets.js';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { connect } from '@nats-io/transport-node';
import { startHttpServer } from '@tabmesh/gateway';
import { announceReady } from '@tabmesh/runtime';
import { Hono } from 'hono';
import { FloorSubjects, FloorTopic, FloorWsPath } from './floor-names.js';
import { epochMs } from './stats.js';

// The bench's own identity when the server checks users (it does unless told not to).
const { NATS_USER: user, NATS_PASSWORD: pass } = process.env;
const nc = await connect({
  servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  name: 'bench-floor',
  ...(user && pass ? { user, pass } : {}),
});
nc.subscribe(FloorSubjects.echo, { callback: (_err, msg) => void msg.respond(msg.data) });

const app = new Hono();
app.post('/echo', async (c) => {
  await c.req.text();
  return c.json({ ok: true }, 201);
});
const nodeHttpPort = await new Promise<number>((resolve) => {
  serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve(info.port));
});
const gatewayHttp = await startHttpServer(app, { hostname: '127.0.0.1', port: 0, maxBodyBytes: 16 * 1024 });

const ws = uWS.App().ws(FloorWsPath, {
  maxPayloadLength: 16 * 1024,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  maxBackpressure: 1024 * 1024,
  open: (socket) => {
    socket.subscribe(FloorTopic);
    socket.send('{"type":"hello"}', false);
  },
});
const wsPort = await new Promise<number>((resolve, reject) => {
  ws.listen('127.0.0.1', 0, (listen) => {
    if (!listen) reject(new Error('uWS could not listen'));
    else resolve(uWS.us_socket_local_port(listen as unknown as uWS.us_socket));
  });
});
// A frame the size of a mesh `tab` frame, stamped when it is handed to uWS.
const padding = 'x'.repeat(600);
nc.subscribe(FloorSubjects.publish, {
  callback: (_err, msg) => {
    ws.publish(FloorTopic, `{"type":"tab","pad":"${padding}","mark":"fanout:${epochMs()}:"}`, false);
    msg.respond();
  },
});
nc.subscribe(FloorSubjects.subscribers, {
  callback: (_err, msg) => void msg.respond(String(ws.numSubscribers(FloorTopic))),
});

process.on('SIGTERM', () => {
  void nc.close().finally(() => process.exit(0));
});
console.log(JSON.stringify({ msg: 'floor server ready', httpPort: gatewayHttp.port, nodeHttpPort, wsPort }));
announceReady('floor-server', { http: gatewayHttp.port, nodeHttp: nodeHttpPort, ws: wsPort });
