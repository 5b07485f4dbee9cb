export { startProvisioner, type ProvisionerHandle } from './start.js';
