/**
 * The fuzz run (see docs/security.md): malformed and odd requests against a real stack, then checks
 * for 5xx answers, crashes, leftover sessions and memory. Writes bench/results/fuzz.md; exits 1 on failure.
 *
 *   npm run fuzz                       # 10 000 cases
 *   FUZZ_REQUESTS=2000 FUZZ_BUS=500 FUZZ_SEED=3 npm run fuzz
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@acefleet/testkit';
import { runCampaign } from './fuzz/campaign.ts';
import { failures, markdown } from './fuzz/report.ts';

const requests = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const seed = Number(process.env.FUZZ_SEED ?? 1);
const busCases = Number(process.env.FUZZ_BUS ?? 2000);

const result = await runCampaign(
  {
    requests,
    busCases,
    seed,
    playEvery: 400,
    concurrency: 24,
    deadlineMs: 15 * 60_000,
    settleTimeoutMs: 120_000,
    rssTolerance: 0.1,
  },
  (line) => console.error(line),
);
const md = markdown(result, {
  seed,
  cores: execFileSync('nproc', { encoding: 'utf8' }).trim(),
  command: `FUZZ_REQUESTS=${requests} FUZZ_BUS=${busCases} npm run fuzz`,
});
writeFileSync(path.join(repoRoot, 'bench/results/fuzz.md'), md);
console.log(md);
if (failures(result).length > 0) process.exitCode = 1;
