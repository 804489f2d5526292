// Worker threads start here: register tsx so the TypeScript worker can be imported.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
