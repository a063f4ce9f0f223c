export { EngineTable, type VersionedEngine } from './engine-table.ts';
