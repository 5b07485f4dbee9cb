import { runMain } from '@tabmesh/runtime';
import { startGateway } from './gateway.js';

await runMain('gateway', startGateway);
