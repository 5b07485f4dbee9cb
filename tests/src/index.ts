export { BusRecorder } from './bus-recorder.js';
export { TaskWatcher } from './task-watcher.js';
export { faultMeshPerTest, startFaultMesh, type FaultMesh } from './fault-mesh.js';
