/**
 * A video set made from CIFAR-10 JPEGs, for video evidence and `bench video`: each image becomes a
 * 2-second clip (8 fps, 64×64, H.264) in which a 64×64 window pans across the image enlarged to
 * 96×96, left to right or right to left, while a black square sweeps across it (an occluder), so no
 * single frame shows the whole object.
 *
 *     node dist/bench/cifar-clips.js CIFAR_TRAIN_DIR OUT_DIR [PER_CLASS]
 *
 * Writes OUT_DIR/content/<class>/<n>.mp4 (the object's class) and OUT_DIR/direction/<left|right>/
 * <class>-<n>.mp4, links to the same clips labelled by the pan's direction: a task where only the
 * order of the frames tells the classes apart.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, symlinkSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { Rng } from "../src/random.js";

function encode(image: string, out: string, rightward: boolean, rng: Rng): Promise<void> {
  const x = rightward ? "16*t" : "32-16*t";
  const boxY = Math.floor(rng.uniform() * 44),
    boxStart = Math.floor(rng.uniform() * 40);
  const filter = `[0]scale=96:96:flags=bicubic,crop=64:64:x='${x}':y=16[bg];color=black:s=20x20[box];[bg][box]overlay=x='mod(${boxStart}+40*t,84)-20':y=${boxY}:shortest=1`;
  const args = ["-v", "error", "-nostdin", "-y", "-loop", "1", "-framerate", "8", "-t", "2", "-i", image];
  args.push("-filter_complex", filter, "-t", "2", "-r", "8", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "20", out);
  return new Promise((resolve, reject) => {
    const child = spawn("ffmpeg", args, { stdio: ["ignore", "ignore", "inherit"] });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed on ${image}`))));
  });
}

async function main(): Promise<void> {
  const [source, out, perClassText = "200"] = process.argv.slice(2);
  if (!source || !out) throw new Error("usage: node dist/bench/cifar-clips.js CIFAR_TRAIN_DIR OUT_DIR [PER_CLASS]");
  const perClass = Number(perClassText);
  const rng = new Rng("cifar-clips");
  const jobs: (() => Promise<void>)[] = [];
  for (const name of readdirSync(source).sort()) {
    const files = readdirSync(join(source, name)).sort().slice(0, perClass);
    mkdirSync(join(out, "content", name), { recursive: true });
    for (const dir of ["left", "right"]) mkdirSync(join(out, "direction", dir), { recursive: true });
    files.forEach((file, n) => {
      const rightward = rng.uniform() < 0.5;
      const clip = join(out, "content", name, `${String(n).padStart(4, "0")}.mp4`);
      const link = join(out, "direction", rightward ? "right" : "left", `${name}-${String(n).padStart(4, "0")}.mp4`);
      const clipRng = rng.child(`${name}/${n}`);
      jobs.push(async () => {
        if (!existsSync(clip)) await encode(join(source, name, file), clip, rightward, clipRng);
        if (!existsSync(link)) symlinkSync(relative(join(link, ".."), clip), link);
      });
    });
  }
  let next = 0,
    done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      await jobs[next++]();
      if (++done % 200 === 0) console.error(`${done}/${jobs.length} clips`);
    }
  };
  await Promise.all(Array.from({ length: 3 }, worker));
  console.error(`wrote ${jobs.length} clips under ${out}`);
}

await main();
