export { type HarnessOptions, inProcess, setup, type TabmeshMesh } from './setup.js';
