export {
  PACKET_SIZE,
  SYNC_BYTE,
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
export { pesTimestampsAt, shiftPesTimestampsAt, keyFrameAt, type PesTimestamps } from './pes.ts';
export {
  SectionReader,
  parsePat,
  parsePmt,
  sectionCrc,
  type Pat,
  type Pmt,
  type ElementaryStream,
  type StreamKind,
  type Codec,
} from './psi.ts';
export { ProgramTracker, Seen, type ProgramTables } from './program.ts';
export {
  inspectTs,
  type TsReport,
  type ContinuityError,
  type TimestampJump,
  type InspectOptions,
} from './inspect.ts';
