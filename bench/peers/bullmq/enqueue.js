'use strict';
// Enqueues the NDJSON jobs of FILE into a BullMQ queue with Queue.addBulk, CHUNK at a time.
//   node enqueue.js --redis redis://127.0.0.1:6379 --queue bench --file jobs.ndjson [--chunk 1000]
// Prints {"enqueued":N,"seconds":…} on stdout.
const fs = require('node:fs');
const readline = require('node:readline');
const { Queue } = require('bullmq');
const { parseArgs, redisConnection } = require('./args');

async function main() {
  const args = parseArgs({
    redis: process.env.BULLMQ_REDIS || 'redis://127.0.0.1:6379',
    queue: process.env.BULLMQ_QUEUE || 'bench',
    file: '-',
    chunk: process.env.BULLMQ_CHUNK || '1000',
  });
  const chunkSize = Number(args.chunk);
  const queue = new Queue(args.queue, { connection: redisConnection(args.redis) });
  await queue.waitUntilReady();
  const input = args.file === '-' ? process.stdin : fs.createReadStream(args.file);
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  const start = performance.now();
  let chunk = [];
  let enqueued = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    const data = JSON.parse(line);
    chunk.push({ name: data.kind, data });
    if (chunk.length >= chunkSize) {
      await queue.addBulk(chunk);
      enqueued += chunk.length;
      chunk = [];
    }
  }
  if (chunk.length) {
    await queue.addBulk(chunk);
    enqueued += chunk.length;
  }
  const seconds = (performance.now() - start) / 1000;
  await queue.close();
  process.stdout.write(JSON.stringify({ enqueued, seconds: Number(seconds.toFixed(3)) }) + '\n');
}

main().catch((error) => {
  console.error(`enqueue failed: ${error.stack || error}`);
  process.exit(1);
});
