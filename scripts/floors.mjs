// The floors of src/ (DESIGN.md): import circles among its files, type-only imports included
// (they are the ones that hide layering mistakes), and imports from a lower floor to a higher one.
// Prints each and exits 1 when there is any; test/architecture.test.ts runs it.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname, "src");
const files = readdirSync(root, { recursive: true })
  .filter((f) => f.endsWith(".ts"))
  .map((f) => join(root, f));
const graph = new Map(
  files.map((file) => {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/g)]
      .map((m) => resolve(dirname(file), m[1].replace(/\.js$/, ".ts")))
      .filter((t) => t !== file);
    return [file, [...new Set(targets)]];
  }),
);

// Tarjan's strongly connected components: every component of more than one file is a circle.
let index = 0;
const stack = [],
  on = new Set(),
  indices = new Map(),
  low = new Map(),
  circles = [];
function visit(v) {
  indices.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!indices.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), indices.get(w)));
  }
  if (low.get(v) === indices.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      component.push(relative(root, w));
    } while (w !== v);
    if (component.length > 1) circles.push(component.sort());
  }
}
for (const file of graph.keys()) if (!indices.has(file)) visit(file);
for (const circle of circles) console.error(`import circle: ${circle.join(" ↔ ")}`);

// From the ground up; a file may import its own floor and those below.
const FLOORS = [[""], ["linalg"], ["cluster", "data"], ["models", "embed"], ["strategies"], ["eval"], ["loop"], ["report"], ["distributed", "serve"], ["cli"]];
const floorOf = (file) => {
  if (["index.ts", "internals.ts"].includes(relative(root, file))) return FLOORS.length; // the public surfaces, above everything
  const folder = relative(root, file).split("/").length > 1 ? relative(root, file).split("/")[0] : "";
  return FLOORS.findIndex((floor) => floor.includes(folder));
};
const upward = [];
for (const [file, targets] of graph) {
  for (const target of targets) {
    if (floorOf(file) >= 0 && floorOf(target) > floorOf(file)) upward.push(`${relative(root, file)} → ${relative(root, target)}`);
  }
}
for (const line of upward) console.error(`upward import: ${line}`);
console.log(`import circles in src/: ${circles.length}; upward imports: ${upward.length}`);
process.exit(circles.length || upward.length ? 1 : 0);
