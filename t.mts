import { readFileSync } from 'node:fs';
import { featureTests, classifierTest, shapesOf, holm } from './src/audit/twoSample.ts';
const load = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => { const r = JSON.parse(l); return r.messages ? r.messages.at(-1).content : r.completion; });
const base = 'runs/owl-numbers/stages/';
const ft = load(base + 'filter-finetuned-ecee5cbd91/dataset.jsonl'); const ctl = load(base + 'filter-control-69ae65a7ff/dataset.jsonl');
const sp = load(base + 'filter-system-prompt-5e0e5de2e1/dataset.jsonl');
for (const [name, a] of [['finetuned', ft], ['system-prompt', sp]] as const) {
  let t0 = Date.now(); const f = featureTests(shapesOf(a), shapesOf(ctl), 999, 1); const t1 = Date.now();
  const c = classifierTest(shapesOf(a), shapesOf(ctl), 999, 1); const t2 = Date.now();
  console.log(name, f.map((x) => `${x.feature}: p=${x.p} (asym ${x.pAsymptotic.toExponential(1)}) jsd=${x.jsd.toFixed(4)}`), 'clf auc', c.auc.toFixed(3), 'p', c.p, `${t1 - t0}ms ${t2 - t1}ms`);
}
