export * from './auth';
export * from './notifications';
