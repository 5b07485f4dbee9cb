// The image's HEALTHCHECK: GET /healthz of the service this container runs. The service is read
// from PID 1's command line (`tini -- node /app/services/<service>.js`), so one image serves every
// service without a per-service setting: the gateway answers on GATEWAY_HTTP_PORT, the workers on
// TABMESH_OPS_PORT. Exit 0 healthy, 1 not (Docker's contract).
import { readFileSync } from 'node:fs';

const argv = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
const service = argv.map((a) => /\/services\/([a-z-]+)\.js$/.exec(a)?.[1]).find(Boolean);
const port = service === 'gateway' ? process.env.GATEWAY_HTTP_PORT || '8080' : process.env.TABMESH_OPS_PORT || '9090';
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
