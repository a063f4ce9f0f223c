export { type VersionedEngine, EngineTable } from './engine-table.ts';
