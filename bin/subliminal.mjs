#!/usr/bin/env node
// The CLI ships as TypeScript and runs through tsx.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
