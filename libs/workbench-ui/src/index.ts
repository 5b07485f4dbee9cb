export { bundlePage, PageEntry } from './server/bundle.js';
export { createWorkbenchHandler, type WorkbenchOptions, WorkbenchPaths } from './server/handler.js';
