export { TestMesh, type MeshOptions } from './mesh.js';
export { BusRecorder } from './bus-recorder.js';
