// After the build: re-indents the emitted JavaScript from tsc's 4 spaces to 2. About a tenth of
// the shipped JavaScript was leading spaces; the package stays under its 1 MiB budget. Only
// indentation outside string and template literals changes (checked: every literal's text is
// compared before and after), so line numbers in stack traces are unchanged.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

/** [start, end) of every string and template literal text in `source`. */
function literals(source) {
  const sf = ts.createSourceFile("x.js", source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const ranges = [];
  const visit = (node) => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      ranges.push([node.getStart(sf), node.end]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return ranges.sort((a, b) => a[0] - b[0]);
}

function compact(source) {
  const ranges = literals(source);
  let r = 0;
  let offset = 0;
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = offset;
    offset += lines[i].length + 1;
    while (r < ranges.length && ranges[r][1] <= start) r++;
    if (r < ranges.length && ranges[r][0] < start) continue; // inside a literal: untouched
    const spaces = lines[i].length - lines[i].trimStart().length;
    if (spaces > 0 && lines[i].slice(0, spaces).trim() === "") {
      lines[i] = " ".repeat(Math.floor(spaces / 2)) + lines[i].slice(spaces);
    }
  }
  return lines.join("\n");
}

const texts = (source) => literals(source).map(([s, e]) => source.slice(s, e));

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith(".js")) {
      const before = readFileSync(path, "utf8");
      const after = compact(before);
      if (JSON.stringify(texts(before)) !== JSON.stringify(texts(after))) {
        throw new Error(`compact-indent would change a literal in ${path}`);
      }
      writeFileSync(path, after);
    }
  }
}

walk(dist);
