import { SimProvider } from '../src/index.js';
import { providerContract } from './provider-contract.js';

const sim = new SimProvider({ provisionMs: 20, sessionMs: 5, failRate: 0 });
providerContract('sim', async () => ({
  provider: sim,
  agent: 'mock',
  liveSandboxes: (org, task) => sim.ledger.liveSandboxes(org, task),
}));
