export { startTabRegistry, type TabRegistryHandle } from './start.js';
export { mintTabId } from './ids.js';
