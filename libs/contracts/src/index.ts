export * from './subjects.ts';
export * from './errors.ts';
export * from './schemas.ts';
export * from './observability.ts';
export * from './fleet.ts';
export * from './fleet-identity.ts';
export * from './redact.ts';
export * from './permissions.ts';
