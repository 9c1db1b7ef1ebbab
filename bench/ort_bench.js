// ort_bench.js -- times one ONNX model in ONNX Runtime (onnxruntime-node, CPU).
//
//   node bench/ort_bench.js MODEL.onnx INPUT.bin THREADS RUNS [OUTPUT.bin]
//
// Builds a session with intra-op THREADS (inter-op 1, sequential execution,
// all graph optimisations), feeds the raw input (f32, or int64 for an input
// of type int64), runs once to warm up, then RUNS timed runs, and prints one
// JSON line: every run's seconds, the median, the peak RSS of the process
// (process.resourceUsage().maxRSS) and the RSS before the session was made
// (node + the ORT library: the harness's own baseline).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(process.env.ORT_NODE_MODULES
  ? path.resolve(process.env.ORT_NODE_MODULES, 'onnxruntime-node')
  : 'onnxruntime-node');

async function main() {
  const [model, input, threads, runs, outPath] = process.argv.slice(2);
  const base = process.resourceUsage().maxRSS * 1024;
  const s = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const name = s.inputNames[0];
  const meta = s.inputMetadata ? s.inputMetadata.find((m) => m.name === name) : null;
  const buf = fs.readFileSync(input);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const dims = JSON.parse(process.env.ORT_INPUT_SHAPE);
  const isInt = process.env.ORT_INPUT_TYPE === 'int64';
  const x = new ort.Tensor(isInt ? 'int64' : 'float32',
    isInt ? new BigInt64Array(ab) : new Float32Array(ab), dims);
  const feeds = { [name]: x };
  let y = await s.run(feeds);                  // warm-up
  const t = [];
  for (let r = 0; r < Number(runs); r++) {
    const t0 = process.hrtime.bigint();
    y = await s.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) * 1e-9);
  }
  const out = y[s.outputNames[0]].data;
  if (outPath) fs.writeFileSync(outPath, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  t.sort((a, b) => a - b);
  const n = t.length;
  const median = n % 2 ? t[(n - 1) / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  void meta;
  console.log(JSON.stringify({ runs: t, median, rss: process.resourceUsage().maxRSS * 1024,
    rss_base: base }));
}
main().catch((e) => { console.error(e); process.exit(1); });
