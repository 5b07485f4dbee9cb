/**
 * `TABMESH_TOKEN=… npx tsx scripts/burst.ts <gateway-url> <creates-per-second> <seconds>`: an open-loop
 * burst of creates on fresh tasks (10 tabs a task), the way the bounds issue tried the mesh. Prints
 * one JSON line: requests sent, how long sending took, and the answers by HTTP status or network
 * error. For trying bounds by hand against `pnpm start`; not part of the test suites. The token
 * comes from the environment, not the command line, which any user of the machine can read.
 */
const [base, rateArg, secondsArg] = process.argv.slice(2);
const token = process.env.TABMESH_TOKEN;
if (!base || !token || !rateArg || !secondsArg) {
  process.stderr.write(
    'usage: TABMESH_TOKEN=<token> tsx scripts/burst.ts <gateway-url> <creates-per-second> <seconds>\n',
  );
  process.exit(2);
}
const rate = Number(rateArg);
const total = rate * Number(secondsArg);
const answers: Record<string, number> = {};
const count = (what: string) => {
  answers[what] = (answers[what] ?? 0) + 1;
};
const started = Date.now();
const pending: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const wait = started + (i * 1000) / rate - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  pending.push(
    fetch(`${base}/v1/orgs/burst/tasks/burst-${Math.floor(i / 10)}/tabs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `t${i}`, agent: 'mock' }),
    })
      .then(async (res) => {
        count(String(res.status));
        await res.arrayBuffer();
      })
      .catch((err: { cause?: { code?: string } }) => count(err.cause?.code ?? 'network error')),
  );
}
await Promise.all(pending);
process.stdout.write(`${JSON.stringify({ sent: total, seconds: (Date.now() - started) / 1000, answers })}\n`);
