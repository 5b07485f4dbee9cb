export { createWorkbenchHandler, WorkbenchPaths, type WorkbenchOptions } from './server/handler.js';
export { bundlePage, PageEntry } from './server/bundle.js';
