export * from './nats-server.ts';
export * from './wait.ts';
export * from './media.ts';
export * from './ports.ts';
export * from './processes.ts';
export * from './docker.ts';
export * from './stack.ts';
