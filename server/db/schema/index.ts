export * from './auth';
export * from './workspaces';
export * from './agents';
export * from './chat';
export * from './tasks';
export * from './issues';
export * from './lark';
export * from './nodes';
