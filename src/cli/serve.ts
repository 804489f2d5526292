// `subliminal serve`: the embedded models behind an OpenAI-compatible API.
import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/packageRoot.js';
import { intArg, UsageError } from './args.js';

interface ServeFlags {
  host: string;
  port: number;
  apiKey?: string;
  models: string;
  runs: string;
  data?: string;
  faults?: string;
  bodyLimitMb: number;
  log?: boolean;
}

export function registerServeCommand(program: Command, runsOption: Option): void {
  program
    .command('serve')
    .description('serve the embedded bases, run-store models and fine-tuned models over an OpenAI-compatible API')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 picks a free one)', intArg('--port', 0, 65535), 8000)
    .addOption(
      new Option('--api-key <key>', 'require "Authorization: Bearer <key>" on every request').env('SUBLIMINAL_API_KEY'),
    )
    .option('--models <dir>', 'folder of embedded models', join(PACKAGE_ROOT, 'models'))
    .addOption(runsOption)
    .option('--data <dir>', 'uploaded files, fine-tuning jobs and their models (default <runs>/serve)')
    .option('--body-limit-mb <n>', 'largest request body accepted', intArg('--body-limit-mb', 1, 1024), 32)
    .addOption(
      new Option(
        '--faults <spec>',
        'test only: inject faults, e.g. "429=0.1,500=0.05,drop=0.02,slow=0.1,failJobs=1"',
      ).hideHelp(),
    )
    .option('--log', 'log every request (JSON lines on stdout)')
    .action(async (f: ServeFlags) => {
      const { createServer } = await import('../serve/server.js');
      const { parseFaults } = await import('../serve/faults.js');
      let faults;
      try {
        faults = f.faults ? parseFaults(f.faults) : undefined;
      } catch (e) {
        throw new UsageError(`--faults: ${(e as Error).message}`);
      }
      const loopback = ['127.0.0.1', 'localhost', '::1'].includes(f.host);
      if (!loopback && !f.apiKey)
        throw new UsageError(
          `refusing to listen on ${f.host} without --api-key (or SUBLIMINAL_API_KEY): anyone on the network could ` +
            `use and fine-tune the models`,
        );
      const { app, registry } = await createServer({
        host: f.host,
        port: f.port,
        apiKey: f.apiKey,
        modelsDir: f.models,
        runsDir: f.runs,
        dataDir: f.data ?? join(f.runs, 'serve'),
        bodyLimitBytes: f.bodyLimitMb * 1024 * 1024,
        faults,
        logger: f.log ?? false,
      });
      const address = await app.listen({ host: f.host, port: f.port });
      const models = registry.list().map((m) => m.id);
      process.stdout.write(
        `subliminal serve listening on ${address}/v1 (${models.length} models: ` +
          `${models.slice(0, 6).join(', ')}${models.length > 6 ? ', ...' : ''})` +
          `${f.apiKey ? '; API key required' : ''}\n`,
      );
      const stop = (): void => {
        void app.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise(() => {}); // serve until stopped
    });
}
