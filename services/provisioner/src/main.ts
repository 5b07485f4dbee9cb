import { runMain } from '@tabmesh/runtime';
import { startProvisioner } from './start.js';

await runMain('provisioner', startProvisioner);
