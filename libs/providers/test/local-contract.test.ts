import { localProvider, tempStateDir } from './local-helpers.js';
import { providerContract } from './provider-contract.js';

const state = tempStateDir();
const provider = localProvider(state.dir);
providerContract(
  'local',
  async () => ({ provider, agent: 'mock', liveSandboxes: (org, task) => provider.liveSandboxPids(org, task).length }),
  async () => state.cleanup(),
);
