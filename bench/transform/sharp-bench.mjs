// sharp (libvips) on the same inputs and cases as crates/transform/examples/bench.rs.
// Usage: node sharp-bench.mjs DIR THREADS SECONDS
import sharp from "sharp";
import fs from "node:fs";
import path from "node:path";

const [dir, threadsArg, secondsArg] = process.argv.slice(2);
const threads = Number(threadsArg || 1);
const seconds = Number(secondsArg || 5);
sharp.concurrency(1); // one libvips thread per image; parallelism comes from concurrent images
sharp.cache(false);
const files = fs.readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).size > 300000).sort();
const cases = [
  ["jpeg->jpeg800", ".jpg", (s) => s.resize({ width: 800 }).jpeg({ quality: 80 })],
  ["jpeg->webp800", ".jpg", (s) => s.resize({ width: 800 }).webp({ quality: 80 })],
  ["png->png800", ".png", (s) => s.resize({ width: 800 }).png()],
  ["png->webp800", ".png", (s) => s.resize({ width: 800 }).webp({ quality: 80 })],
  ["jpeg->avif800", ".jpg", (s) => s.resize({ width: 800 }).avif({ quality: 60 })],
];
for (const [name, suffix, pipeline] of cases) {
  const inputs = files.filter((f) => f.endsWith(suffix)).map((f) => fs.readFileSync(f));
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  let done = 0;
  const run = (input) => pipeline(sharp(input, { limitInputPixels: 100000000 })).toBuffer();
  const worker = async (t) => {
    for (let i = t; Date.now() < deadline; i += threads) {
      await run(inputs[i % inputs.length]);
      done++;
    }
  };
  await Promise.all(Array.from({ length: threads }, (_, t) => worker(t)));
  const rate = done / ((Date.now() - started) / 1000);
  // Mean size over one pass of every input: the same set the pixelway side measures.
  let bytes = 0;
  for (const input of inputs) bytes += (await run(input)).length;
  console.log(`${name} ${rate.toFixed(2)} ${Math.round(bytes / inputs.length)}`);
}
