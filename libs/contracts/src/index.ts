export * from './subjects.ts';
export * from './errors.ts';
export * from './schemas.ts';
