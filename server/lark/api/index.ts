export { LARK_DEFAULTS } from '../defaults';
export * from './hosts';
export * from './errors';
export * from './tenant-token-cache';
export * from './http-client';
export * from './registration';
export { abortableSleep, type FetchLike } from './request';
