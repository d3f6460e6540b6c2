// Times ONNX Runtime's (CPU) forward pass of an exported ViT and prints one JSON line; the ONNX
// Runtime column of scripts/bench_peers.sh.
//
//   node run_ort.mjs --onnx FILE.onnx --ort-dir DIR --batch B --threads T
//                    [--warmup W] [--iterations N] [--check-input FILE.f32]
//
// --ort-dir: the folder whose node_modules holds onnxruntime-node (scripts/bench/package.json,
// installed with `npm ci --ignore-scripts`; the Linux x64 CPU library ships inside the package).
// Session: intraOpNumThreads = T, interOpNumThreads = 1, graph optimisation 'all', sequential
// execution. Timing: warmup + N timed runs on the same random batch (standard normal, fixed seed).
// --check-input: raw little-endian float32 images [K,3,224,224]; their logits, each image run on its
// own (batch 1), are added to the output as "check_logits".
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const IMAGE_SIZE = 224;
const PER_IMAGE = 3 * IMAGE_SIZE * IMAGE_SIZE;

function fail(message) {
  process.stderr.write(`run_ort: ${message}\n`);
  process.exit(2);
}

function integerOption(values, name, fallback, minimum) {
  const raw = values[name] ?? fallback;
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < minimum)
    fail(`--${name}: expected an integer >= ${minimum}, got '${raw}'`);
  return value;
}

// Standard normal floats from a seeded 32-bit generator (mulberry32 + Box-Muller).
function randomNormal(count, seed) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;  // in (0, 1)
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

function readImages(path) {
  const bytes = readFileSync(path);
  if (bytes.length === 0 || bytes.length % (4 * PER_IMAGE) !== 0)
    fail(`${path}: ${bytes.length} bytes are not whole float32 3x${IMAGE_SIZE}x${IMAGE_SIZE} images`);
  const floats = new Float32Array(bytes.length / 4);
  for (let i = 0; i < floats.length; ++i) floats[i] = bytes.readFloatLE(4 * i);
  return floats;
}

const { values } = parseArgs({
  options: {
    onnx: { type: 'string' },
    'ort-dir': { type: 'string' },
    batch: { type: 'string' },
    threads: { type: 'string' },
    warmup: { type: 'string' },
    iterations: { type: 'string' },
    'check-input': { type: 'string' },
    seed: { type: 'string' },
  },
  strict: true,
});
if (!values.onnx) fail('--onnx FILE is required');
if (!values['ort-dir']) fail('--ort-dir DIR is required');
const batch = integerOption(values, 'batch', 1, 1);
const threads = integerOption(values, 'threads', undefined, 1);
const warmup = integerOption(values, 'warmup', 5, 0);
const iterations = integerOption(values, 'iterations', 30, 0);
const seed = integerOption(values, 'seed', 42, 0);

// onnxruntime-node is resolved from --ort-dir, not from this script's folder.
const require = createRequire(resolve(values['ort-dir'], 'package.json'));
const ort = require('onnxruntime-node');
const ortVersion = require('onnxruntime-node/package.json').version;

const session = await ort.InferenceSession.create(values.onnx, {
  executionProviders: ['cpu'],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
});
if (session.inputNames.length !== 1 || session.outputNames.length !== 1)
  fail(`${values.onnx}: expected one input and one output, got ${session.inputNames} -> ${session.outputNames}`);
const [inputName] = session.inputNames;
const [outputName] = session.outputNames;
const run = async (images, count) => {
  const feeds = { [inputName]: new ort.Tensor('float32', images, [count, 3, IMAGE_SIZE, IMAGE_SIZE]) };
  return (await session.run(feeds))[outputName];
};

const input = randomNormal(batch * PER_IMAGE, seed);
for (let i = 0; i < warmup; ++i) await run(input, batch);
const timesMs = [];
for (let i = 0; i < iterations; ++i) {
  const start = process.hrtime.bigint();
  await run(input, batch);
  timesMs.push(Number(process.hrtime.bigint() - start) / 1e6);
}

const sorted = [...timesMs].sort((a, b) => a - b);
const mid = sorted.length >> 1;
const median = sorted.length === 0 ? null
  : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
const result = {
  engine: 'onnxruntime',
  engine_version: ortVersion,
  model: basename(values.onnx),
  batch,
  threads,
  warmup,
  iterations,
  median_ms_per_batch: median,
  median_ms_per_image: median === null ? null : median / batch,
  min_ms_per_batch: sorted.length ? sorted[0] : null,
  times_ms: timesMs.map((t) => Math.round(t * 1e4) / 1e4),
};
if (values['check-input']) {
  // One image per run: a dynamically quantized graph's per-tensor activation scales then belong to
  // that image alone, as with batch 1 (for a float graph the batch makes no difference).
  const images = readImages(values['check-input']);
  const count = images.length / PER_IMAGE;
  result.check_logits = [];
  for (let b = 0; b < count; ++b) {
    const logits = await run(images.slice(b * PER_IMAGE, (b + 1) * PER_IMAGE), 1);
    result.check_logits.push(Array.from(logits.data));
  }
}
process.stdout.write(`${JSON.stringify(result)}\n`);
