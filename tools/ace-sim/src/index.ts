export { buildSimulator, DEFAULT_MEDIA_PATH, type Simulator, type SimulatorOptions } from './server.ts';
export {
  noFaults,
  faultKinds,
  FaultError,
  type Faults,
  type FaultPatch,
  type FaultSnapshot,
} from './faults.ts';
export { badBodies, type BadBody } from './bad-body.ts';
export { MediaError } from './media.ts';
export type { Timeline } from './timeline.ts';
export { profileNames, ProfileError, type ProfileName } from './profile.ts';
export { infohashOfContentId } from './content.ts';
export type { SessionStats, SessionInfo, EndReason } from './sessions.ts';
export type { SimSettings } from './context.ts';
export { jsonLineLogger, silentLogger, type Logger } from './log.ts';
