export { parseContentLink, type LinkResult } from './content-link.ts';
export { parseM3u, type ParsedPlaylist, type PlaylistEntry } from './m3u.ts';
export { isUrlSource, readSource, sourceName, type SourceLimits } from './source.ts';
export {
  importPlaylist,
  importSource,
  openChannelsKv,
  readChannels,
  readSources,
  removeChannels,
  sourceKeyOf,
} from './channel-store.ts';
export { ChannelDirectory } from './channel-directory.ts';
