export * from './auth';
export * from './notifications';
export * from './discovery';
export * from './market';
export * from './vault';
export * from './chat';
export * from './collections';
export * from './cluster';
