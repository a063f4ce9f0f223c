/** `npm run docs:config`: write docs/configuration.md from the services' schemas. */
import { writeFileSync } from 'node:fs';
import { CONFIG_REFERENCE_PATH, renderConfigReference } from './config-reference.ts';

writeFileSync(CONFIG_REFERENCE_PATH, await renderConfigReference());
