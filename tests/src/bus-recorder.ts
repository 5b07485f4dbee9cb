export class BusRecorder {}
