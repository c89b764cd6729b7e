export * from './schema';
export * from './load';
export * from './paths';
export * from './check';
export * from './env';
