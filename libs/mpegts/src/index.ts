export {
  PACKET_SIZE,
  NULL_PID,
  PAT_PID,
  TIMESTAMP_WRAP,
  TIMESTAMP_HZ,
  pidAt,
  unitStartAt,
  hasPayloadAt,
  continuityAt,
  setContinuityAt,
  discontinuityAt,
  randomAccessAt,
  payloadOffsetAt,
  pcrAt,
  setPcrAt,
  wrapTimestamp,
  timestampDelta,
  nullPacket,
  pcrPacket,
  discontinuityPacket,
  withDiscontinuity,
} from './packet.ts';
export { pesTimestampsAt, decodeTimeAt, shiftPesTimestampsAt, keyFrameAt } from './pes.ts';
export {
  type Codec,
  sectionCrc,
  SectionReader,
  parsePmt,
  sectionVersionAt,
  setSectionVersionAt,
} from './psi.ts';
export { Seen, type ProgramTables, ProgramTracker } from './program.ts';
export { inspectTs } from './inspect.ts';
