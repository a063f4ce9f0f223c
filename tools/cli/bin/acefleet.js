#!/usr/bin/env node
// The `acefleet` command: runs the TypeScript entry in this process through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
