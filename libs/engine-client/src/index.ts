export * from './client.ts';
export * from './playback-body.ts';
