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
const open = (input, options = {}) => sharp(input, { limitInputPixels: 100000000, ...options });
const logo = fs.readFileSync(path.join(dir, "emerald_1689x1800_alpha.png"));
const cases = [
  ["jpeg->jpeg800", ".jpg", (i) => open(i).resize({ width: 800 }).jpeg({ quality: 80 }).toBuffer()],
  ["jpeg->webp800", ".jpg", (i) => open(i).resize({ width: 800 }).webp({ quality: 80 }).toBuffer()],
  ["png->png800", ".png", (i) => open(i).resize({ width: 800 }).png().toBuffer()],
  ["png->webp800", ".png", (i) => open(i).resize({ width: 800 }).webp({ quality: 80 }).toBuffer()],
  ["jpeg->avif800", ".jpg", (i) => open(i).resize({ width: 800 }).avif({ quality: 60 }).toBuffer()],
  // The logo is resized per image, as pixelway does for its layer.
  ["watermark800", "kleiber_6028x3391.jpg", async (i) => {
    const mark = await open(logo).resize({ width: 200 }).toBuffer();
    return open(i).resize({ width: 800 }).composite([{ input: mark, gravity: "southeast" }])
      .jpeg({ quality: 80 }).toBuffer();
  }],
  ["gif100->w200", "anim_100f.gif", (i) => open(i, { animated: true }).resize({ width: 200 }).gif().toBuffer()],
];
for (const [name, suffix, run] of cases) {
  const inputs = files.filter((f) => f.endsWith(suffix)).map((f) => fs.readFileSync(f));
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  let done = 0;
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
