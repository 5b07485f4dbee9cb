import { runMain } from '@tabmesh/runtime';
import { startTabRegistry } from './start.js';

await runMain('tab-registry', startTabRegistry);
