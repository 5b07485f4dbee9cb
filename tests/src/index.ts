export { BusRecorder } from './bus-recorder.js';
export { type FaultMesh, faultMeshPerTest, startFaultMesh } from './fault-mesh.js';
export { TaskWatcher } from './task-watcher.js';
