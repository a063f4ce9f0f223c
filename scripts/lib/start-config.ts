/**
 * The settings `npm start` itself reads (the services read theirs: docs/configuration.md). Read once, checked
 * like a service's: a bad value is named and `npm start` exits with code 2 before anything starts.
 */
import { Type } from '@sinclair/typebox';

export const StartConfig = Type.Object({
  logFileMaxBytes: Type.Integer({
    default: 10 * 1024 * 1024,
    minimum: 4096,
    maximum: 1024 ** 3,
    description:
      'a log file of `.run/logs` is rotated before it would pass this many bytes (`<name>.log` → `<name>.log.1`); disk use is at most LOG_FILE_MAX_BYTES × LOG_FILES per process',
  }),
  logFiles: Type.Integer({
    default: 3,
    minimum: 1,
    maximum: 100,
    description: 'log files kept per process, the one being written included; older ones are deleted',
  }),
});
