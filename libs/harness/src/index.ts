export { setup, inProcess, type HarnessOptions, type TabmeshMesh } from './setup.js';
