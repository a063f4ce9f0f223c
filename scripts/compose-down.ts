/**
 * `npm run compose:down`: removes the compose stack (COMPOSE_PROJECT_NAME, default `acefleet`) and all it
 * made: the engines engine-manager started (containers labelled with the stack's HOST_ID and FLEET_ID), the
 * containers, networks and volumes of the project, and the operator's URL file compose:up wrote. Images stay,
 * so the next compose:up starts quickly.
 */
import { execFileSync } from 'node:child_process';
import { Labels } from '@acefleet/contracts';
import { compose, composeEnv, composeOutput, docker, resolvedSetting } from './lib/compose.ts';
import { removeOperatorFile } from './lib/compose-operator.ts';

const config = composeOutput(['config']);
// First the manager, so that it does not replace the engines removed next.
compose(['stop', 'engine-manager']);
const labels = [
  `${Labels.managed}=true`,
  `${Labels.host}=${resolvedSetting(config, 'HOST_ID')}`,
  `${Labels.fleet}=${resolvedSetting(config, 'FLEET_ID')}`,
];
const engines = containersLabelled(labels);
if (engines.length > 0) docker(['rm', '-f', ...engines]);
compose(['down', '--volumes', '--remove-orphans']);
removeOperatorFile(composeEnv());

function containersLabelled(labels: string[]): string[] {
  return execFileSync('docker', ['ps', '-aq', ...labels.flatMap((l) => ['--filter', `label=${l}`])], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}
