export { LARK_DEFAULTS } from '../defaults';
export * from './hosts';
export * from './errors';
export * from './tenant-token-cache';
export * from './http-client';
export * from './registration';
export { type FetchLike } from './request';
