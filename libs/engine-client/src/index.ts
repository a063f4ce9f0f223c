export {
  type EngineSession,
  EngineStat,
  rewriteToBase,
  startSession,
  stopSession,
  getSessionStat,
  probeStatus,
} from './client.ts';
export { type PlaybackHandlers, type PlaybackBody, openPlaybackBody } from './playback-body.ts';
