import { runMain } from '@tabmesh/runtime';
import { startSessionCreator } from './start.js';

await runMain('session-creator', startSessionCreator);
