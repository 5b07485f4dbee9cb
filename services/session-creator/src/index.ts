export { startSessionCreator, type SessionCreatorHandle } from './start.js';
