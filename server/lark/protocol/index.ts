export * from './frame';
export * from './chunk-assembler';
export { LARK_DEFAULTS } from '../defaults';
export * from './bootstrap';
export * from './connector';
export * from './event-decoder';
export * from './mentions';
