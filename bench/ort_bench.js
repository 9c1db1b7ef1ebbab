// ort_bench.js -- times one ONNX model in ONNX Runtime (onnxruntime-node, CPU).
//
//   node bench/ort_bench.js MODEL.onnx INPUT.bin THREADS RUNS [OUTPUT.bin]
//
// Builds a session with intra-op THREADS (inter-op 1, sequential execution,
// all graph optimisations, or ORT_OPT=basic|extended|disabled), feeds the raw input (f32, or int64 for an input
// of type int64), runs once to warm up, then RUNS timed runs, and prints one
// JSON line: every run's wall-clock and CPU seconds (user + system of the
// process), their medians, the peak RSS of the process
// (VmHWM) and the RSS before the session was made
// (node + the ORT library: the harness's own baseline).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(process.env.ORT_NODE_MODULES
  ? path.resolve(process.env.ORT_NODE_MODULES, 'onnxruntime-node')
  : 'onnxruntime-node');

// peak RSS in bytes: VmHWM (process.resourceUsage().maxRSS survives exec on
// Linux and would report a larger parent's peak)
function peakRss() {
  try {
    const m = /VmHWM:\s*(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch (e) { /* not Linux */ }
  return process.resourceUsage().maxRSS * 1024;
}

async function main() {
  const [model, input, threads, runs, outPath] = process.argv.slice(2);
  const base = peakRss();
  const s = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: process.env.ORT_OPT || 'all',
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
  const t = [], c = [];
  for (let r = 0; r < Number(runs); r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    y = await s.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) * 1e-9);
    const dc = process.cpuUsage(c0);
    c.push((dc.user + dc.system) * 1e-6);
  }
  const out = y[s.outputNames[0]].data;
  if (outPath) fs.writeFileSync(outPath, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  const med = (v) => {
    const u = v.slice().sort((a, b) => a - b), n = u.length;
    return n % 2 ? u[(n - 1) / 2] : 0.5 * (u[n / 2 - 1] + u[n / 2]);
  };
  void meta;
  console.log(JSON.stringify({ runs: t, cpu_runs: c, median: med(t), cpu_median: med(c),
    rss: peakRss(), rss_base: base,
    opt: process.env.ORT_OPT || 'all' }));
}
main().catch((e) => { console.error(e); process.exit(1); });
