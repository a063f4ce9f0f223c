export default {
  files: [
    'tests/**/*.test.ts',
    'libs/*/test/**/*.test.ts',
    'services/*/test/**/*.test.ts',
    'tools/*/test/**/*.test.ts',
  ],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '120s',
  concurrency: 2,
  verbose: true,
};
