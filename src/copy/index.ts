export * from './errors.js';
export * from './pg-limits.js';
export * from './numeric.js';
export * from './byte-buffer.js';
export * from './field-encoders.js';
export * from './row-encoder.js';
export * from './tuple-fields.js';
export * from './copy-stream.js';
