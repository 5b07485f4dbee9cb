export { TestMesh, type MeshOptions } from './mesh.js';
export { BusRecorder } from './bus-recorder.js';
export { ProcessMesh, faultEnv, type CreateOutcome } from './process-mesh.js';
export { gatewayUrls } from './gateway-url.js';
export { TaskWatcher } from './task-watcher.js';
export { processMeshPerTest } from './process-mesh-fixture.js';
