export { type SessionCreatorHandle, startSessionCreator } from './start.js';
