'use strict';
// The BullMQ worker of the benchmark: a Worker with CONCURRENCY whose processor does what
// Rescind does for an order.canceled job (providers.js), against the same sandbox.
//   node worker.js --redis redis://127.0.0.1:6379 --queue bench --sandbox http://127.0.0.1:8099 \
//                  --concurrency 100 --expect 20000
// Once EXPECT jobs have finished (completed or failed) it prints one JSON line on stdout:
//   {"completed":N,"failed":F,"p50_ms":…,"p99_ms":…,"mean_ms":…,"p50_ms_since_start":…,"p99_ms_since_start":…,
//    "internal_seconds":…}
// and keeps running until SIGTERM/SIGINT (the driver reads its CPU and RSS from /proc first).
// Latency per job = job.finishedOn − job.timestamp (enqueue to completion, exact, nearest rank);
// the _since_start variants count from max(job.timestamp, this process's start).
const { Worker } = require('bullmq');
const { Providers } = require('./providers');
const { parseArgs, redisConnection } = require('./args');

const args = parseArgs({
  redis: process.env.BULLMQ_REDIS || 'redis://127.0.0.1:6379',
  queue: process.env.BULLMQ_QUEUE || 'bench',
  sandbox: process.env.BULLMQ_SANDBOX || 'http://127.0.0.1:8099',
  concurrency: process.env.BULLMQ_CONCURRENCY || '100',
  expect: process.env.BULLMQ_EXPECT || '0',
});
const startMs = performance.timeOrigin; // process start, epoch ms
const expect = Number(args.expect);
const providers = new Providers(args.sandbox);

const latencies = new Float64Array(Math.max(expect, 1));
const sinceStart = new Float64Array(Math.max(expect, 1));
let completed = 0;
let failed = 0;
let lastFinished = 0;
let reported = false;

function percentile(sorted, n, p) {  // nearest rank, in ms with 0.1 ms resolution
  if (n === 0) return null;
  return Math.round(sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] * 10) / 10;
}

function report() {
  if (reported) return;
  reported = true;
  const n = Math.min(completed, latencies.length);
  const a = latencies.slice(0, n).sort();
  const b = sinceStart.slice(0, n).sort();
  process.stdout.write(JSON.stringify({
    completed,
    failed,
    p50_ms: percentile(a, n, 0.5),
    p99_ms: percentile(a, n, 0.99),
    mean_ms: n ? Math.round((a.reduce((x, y) => x + y, 0) / n) * 10) / 10 : null,
    p50_ms_since_start: percentile(b, n, 0.5),
    p99_ms_since_start: percentile(b, n, 0.99),
    internal_seconds: Number(((lastFinished - startMs) / 1000).toFixed(3)),
  }) + '\n');
}

const worker = new Worker(args.queue, async (job) => providers.orderCanceled(job.data), {
  connection: redisConnection(args.redis),
  concurrency: Number(args.concurrency),
});

worker.on('completed', (job) => {
  if (completed < latencies.length) {
    latencies[completed] = job.finishedOn - job.timestamp;
    sinceStart[completed] = job.finishedOn - Math.max(job.timestamp, startMs);
  }
  completed++;
  if (job.finishedOn > lastFinished) lastFinished = job.finishedOn;
  if (expect > 0 && completed + failed >= expect) report();
});

worker.on('failed', (job, error) => {
  failed++;
  if (failed <= 5) console.error(`job ${job && job.data && job.data.id} failed: ${error && error.message}`);
  if (expect > 0 && completed + failed >= expect) report();
});

worker.on('error', (error) => console.error(`worker error: ${error && error.message}`));

let stopping = false;
async function stop() {
  if (stopping) process.exit(1);
  stopping = true;
  report();
  const timer = setTimeout(() => process.exit(0), 3000);
  timer.unref();
  try {
    await worker.close();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
