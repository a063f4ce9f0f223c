export { type SimulatorOptions, type Simulator, buildSimulator } from './server.ts';
export { type FaultSnapshot } from './faults.ts';
export { badBodies, type BadBody } from './bad-body.ts';
export { ProfileError } from './profile.ts';
export { infohashOfContentId } from './content.ts';
export { type SessionStats } from './sessions.ts';
