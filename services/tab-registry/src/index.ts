export { mintTabId } from './ids.js';
export { startTabRegistry, type TabRegistryHandle } from './start.js';
