export { parseContentLink } from './content-link.ts';
export { parseM3u } from './m3u.ts';
export { type SourceLimits, sourceName, readSource } from './source.ts';
export {
  openChannelsKv,
  readChannels,
  readSources,
  importPlaylist,
  removeChannels,
  importSource,
} from './channel-store.ts';
export { ChannelDirectory } from './channel-directory.ts';
