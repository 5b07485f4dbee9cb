export { type ProvisionerHandle, startProvisioner } from './start.js';
