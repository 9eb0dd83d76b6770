export * from './errors.js';
export * from './numeric.js';
export * from './binary-writer.js';
export * from './copy-stream.js';
