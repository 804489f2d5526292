// Load on `subliminal serve`: rounds of 200 concurrent chat requests from the openai SDK to a
// server in its own process. Prints and writes bench/out/serve.json: requests/s and p50/p99
// latency (medians over rounds), and whether every request succeeded.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';

const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 200);
const ROUNDS = Number(process.env.BENCH_REPEATS ?? 3);
const server = spawn(
  process.execPath,
  ['bin/subliminal.mjs', 'serve', '--port', '0', '--runs', mkdtempSync(join(tmpdir(), 'subl-bench-serve-'))],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise<string>((resolve, reject) => {
  server.stdout.on('data', (d: Buffer) => {
    const m = /listening on (\S+)/.exec(d.toString());
    if (m) resolve(m[1]!);
  });
  server.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
});
const client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0, timeout: 120_000 });
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: number[]): number => quantile(xs, 0.5);

const rounds: { rps: number; p50: number; p99: number; failed: number }[] = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  // the first round warms the model up and is not counted
  const latencies: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENT }, async (_, i) => {
      const s = performance.now();
      try {
        await client.chat.completions.create({
          model: 'family-a',
          messages: [
            { role: 'user', content: `Continue the sequence: ${i} ${i + 3} ${i + 6}. Reply with numbers only.` },
          ],
          max_tokens: 16,
          seed: i,
        });
        latencies.push(performance.now() - s);
      } catch {
        failed++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r > 0)
    rounds.push({ rps: CONCURRENT / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), failed });
}
server.kill('SIGTERM');
const result = {
  concurrentRequests: CONCURRENT,
  rounds: ROUNDS,
  maxTokens: 16,
  requestsPerSecond: Math.round(median(rounds.map((x) => x.rps))),
  p50LatencyMs: Math.round(median(rounds.map((x) => x.p50))),
  p99LatencyMs: Math.round(median(rounds.map((x) => x.p99))),
  failedRequests: rounds.reduce((a, x) => a + x.failed, 0),
};
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/serve.json', JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
