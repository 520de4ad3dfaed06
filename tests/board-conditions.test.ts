/**
 * The host engines hold the firmware to a board's conditions that the toolchain (not on npm) would
 * otherwise be the first to show: built-ins frozen as xsl freezes them, every module main reaches
 * listed (and preloaded) in manifest.json, `device` only what the SDK's host provider gives.
 */
import test from "ava";
import { build } from "esbuild";
import ts from "typescript";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startNodeEngine } from "../host-sim/engines/node-engine";
import { startXsEngine } from "../host-sim/engines/xs-engine";
import { makeDevice } from "../host-sim/shims/device";
import { specifierOf, unlisted } from "../scripts/manifest-modules.mjs";

const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));

/** A bundle whose command port runs `body` and answers what it returned or the error it threw. */
function probe(body: string): string {
  return `globalThis.__tgCommand = () => { try { return "ok:" + String((() => { ${body} })()); } catch (e) { return "threw:" + e.name + ": " + e.message; } };`;
}

for (const [name, start] of [["xs", startXsEngine], ["node", startNodeEngine]] as const) {
  test(`[${name}] built-ins are frozen as xsl freezes them: an Error subclass assigning this.name throws`, async (t) => {
    const engine = await start(
      probe(`class E extends Error { constructor() { super("m"); this.name = "E"; } } return new E().name;`),
      () => "null",
    );
    try {
      const got = await engine.command("{}");
      t.regex(got, /^threw:TypeError/, got);
    } finally {
      await engine.close();
    }
  });

  test(`[${name}] built-ins are frozen: Array.prototype, Object.prototype, Math; the global object and class fields are not`, async (t) => {
    const engine = await start(
      probe(`
        const frozen = [Array.prototype, Object.prototype, Function.prototype, Error.prototype, Uint8Array.prototype,
          Object.getPrototypeOf(Uint8Array.prototype), Math, JSON, Map.prototype, Promise.prototype, Object.getPrototypeOf([][Symbol.iterator]())]
          .every((o) => Object.isFrozen(o));
        class F extends Error { name = "F"; }
        globalThis.__probe = 1;
        return frozen + "," + new F().name + "," + globalThis.__probe;`),
      () => "null",
    );
    try {
      t.is(await engine.command("{}"), "ok:true,F,1");
    } finally {
      await engine.close();
    }
  });
}

test("every firmware module main reaches is listed in manifest.json modules, under the specifier its importers use", async (t) => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["firmware/main.ts"],
    bundle: true,
    write: false,
    metafile: true,
    platform: "neutral",
    format: "esm",
    external: ["timer", "preference", "mc/config", "rtc", "time", "embedded:*"],
    logLevel: "silent",
  });
  const files = Object.keys(result.metafile.inputs).filter((f) => f.startsWith("firmware/"));
  t.true(files.length > 30, `main reaches ${files.length} firmware modules`);
  t.deepEqual(files.map((f) => unlisted(manifest, f)).filter((why) => why !== null), []);
  // and the check sees a missing entry: without "uplink/*" the uplink modules are unlisted
  const { ["uplink/*"]: _dropped, ...rest } = manifest.modules;
  t.regex(unlisted({ modules: rest }, "firmware/uplink/link.ts") ?? "", /does not list firmware\/uplink\/link\.ts as "uplink\/link"/);
  t.is(unlisted(manifest, "firmware/platform/esp32/rtc.ts"), null, "rtc is imported by its bare name");
});

test("every firmware module is preloaded by name (module code and frozen tables in flash, not in the XS heap)", (t) => {
  const preload = new Set<string>(manifest.preload);
  const files = readdirSync(join(root, "firmware"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `firmware/${f.split("\\").join("/")}`);
  t.true(files.length > 30);
  t.deepEqual(files.filter((f) => !preload.has(specifierOf(manifest, f) ?? "")), []);
  for (const p of manifest.preload as string[]) t.false(p.includes("*"), `preload "${p}": mcconfig matches wildcards against JavaScript modules only`);
});

test("the firmware's device is what the SDK's host provider (esp32/nodemcu) exports: no device.network, sockets are modules", (t) => {
  const { device, sockets } = makeDevice(() => 0);
  t.deepEqual(Object.keys(device).sort(), ["I2C", "Serial", "io", "pin"]);
  t.deepEqual(Object.keys(device.io).sort(), ["Digital", "DigitalBank", "I2C", "Serial"]);
  t.like(device.I2C.default, { data: 21, clock: 22 });
  t.deepEqual(Object.keys(sockets).sort(), ["Listener", "TCP", "UDP"]);
  const bundle = readFileSync(join(root, "dist/firmware-host.js"), "utf8");
  t.false(/device\.network/.test(bundle), "the bundle never reads device.network");
});

/**
 * How a module-level typed array is used inside a function (at run time), if not only read: an
 * element assigned, a mutating method called, or the array handed on (an alias or an argument,
 * which could write it). Writes by the module body itself (a table built at preload) are fine.
 */
function typedArrayMisuse(source: ts.SourceFile, name: string): string | null {
  let found: string | null = null;
  const inFunction = (n: ts.Node): boolean => {
    for (let p = n.parent; p; p = p.parent) if (ts.isFunctionLike(p) || ts.isClassStaticBlockDeclaration(p)) return true;
    return false;
  };
  const assignOps = new Set([ts.SyntaxKind.EqualsToken, ts.SyntaxKind.PlusEqualsToken, ts.SyntaxKind.MinusEqualsToken, ts.SyntaxKind.BarEqualsToken, ts.SyntaxKind.AmpersandEqualsToken, ts.SyntaxKind.CaretEqualsToken, ts.SyntaxKind.LessThanLessThanEqualsToken, ts.SyntaxKind.GreaterThanGreaterThanEqualsToken, ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken, ts.SyntaxKind.AsteriskEqualsToken]);
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isIdentifier(n) && n.text === name && inFunction(n)) {
      const parent = n.parent;
      if (ts.isElementAccessExpression(parent) && parent.expression === n) {
        const up = parent.parent;
        const written =
          (ts.isBinaryExpression(up) && up.left === parent && assignOps.has(up.operatorToken.kind)) ||
          ((ts.isPrefixUnaryExpression(up) || ts.isPostfixUnaryExpression(up)) && (up.operator === ts.SyntaxKind.PlusPlusToken || up.operator === ts.SyntaxKind.MinusMinusToken));
        if (written) found = `written (${up.getText().slice(0, 40)})`;
      } else if (ts.isPropertyAccessExpression(parent) && parent.expression === n) {
        if (parent.name.text !== "length") found = `used as ${parent.getText()}`;
      } else found = `handed on (${parent.getText().slice(0, 40)})`;
    }
    n.forEachChild(visit);
  };
  visit(source);
  return found;
}

/**
 * xsl runs every preloaded module's body at link time and keeps what it made in flash: an object a
 * module body creates and leaves mutable is "not frozen" (an alias slot of RAM, and a write to a
 * private field of it throws on the board: the lin boot aborted that way on `uiPorts`), a
 * module-level `let` is "no const". This reads the firmware the way xsl warns, at the top level of
 * each module: object and array literals and `new` objects must be frozen (`frozen()` from
 * lib/frozen.ts, deep; or a shallow `Object.freeze` of a literal with nothing nested), or frozen by
 * a later top-level statement; typed arrays (tables built by the body) and regular expressions pass.
 */
test("no preloaded module body leaves a mutable object or a module-level let (xsl's 'not frozen' and 'no const')", (t) => {
  // A mutable module-level scratch buffer on purpose: allocated at run time, in RAM.
  const allowed = new Set(["firmware/lib/utf8-strict.ts:units"]);
  const files = readdirSync(join(root, "firmware"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => `firmware/${f.split("\\").join("/")}`);
  const problems: string[] = [];
  const unwrap = (e: ts.Expression): ts.Expression => {
    while (ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isParenthesizedExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
    return e;
  };
  const nested = (e: ts.Node): boolean => {
    let found = false;
    e.forEachChild((c) => {
      const x = ts.isPropertyAssignment(c) ? c.initializer : c;
      if (ts.isObjectLiteralExpression(unwrap(x as ts.Expression)) || ts.isArrayLiteralExpression(unwrap(x as ts.Expression))) found = true;
    });
    return found;
  };
  const callee = (e: ts.Expression): string | null => {
    if (!ts.isCallExpression(e)) return null;
    return e.expression.getText();
  };
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(join(root, file), "utf8"), ts.ScriptTarget.ES2022, true);
    const frozenLater = new Set<string>();
    for (const st of source.statements) {
      if (ts.isExpressionStatement(st)) {
        const e = unwrap(st.expression);
        const fn = callee(e);
        if ((fn === "frozen" || fn === "Object.freeze") && ts.isCallExpression(e) && ts.isIdentifier(e.arguments[0])) frozenLater.add(e.arguments[0].text);
      }
    }
    for (const st of source.statements) {
      if (!ts.isVariableStatement(st)) continue;
      const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0;
      for (const d of st.declarationList.declarations) {
        const name = d.name.getText();
        if (!isConst) {
          if (!allowed.has(`${file}:${name}`)) problems.push(`${file}: ${name}: no const`);
          continue;
        }
        if (!d.initializer || frozenLater.has(name)) continue;
        const init = unwrap(d.initializer);
        const fn = callee(init);
        if (fn === "frozen") continue;
        if (fn === "Object.freeze") {
          const arg = (init as ts.CallExpression).arguments[0];
          if (arg && nested(unwrap(arg))) problems.push(`${file}: ${name}: Object.freeze is shallow, a nested table is not frozen (use frozen())`);
          continue;
        }
        if (ts.isObjectLiteralExpression(init) || ts.isArrayLiteralExpression(init)) problems.push(`${file}: ${name}: not frozen`);
        if (ts.isNewExpression(init)) {
          const cls = init.expression.getText();
          if (!/^(Uint8|Uint16|Uint32|Int8|Int16|Int32|Float32|Float64)Array$|^RegExp$/.test(cls)) problems.push(`${file}: ${name}: a ${cls} made by the module body (make it at boot)`);
          else if (cls !== "RegExp") {
            const misuse = typedArrayMisuse(source, name);
            if (misuse) problems.push(`${file}: ${name}: a typed array the module body made is in flash on the board, where writing an element throws; at run time it is ${misuse} (make it at run time)`);
          }
        }
      }
    }
  }
  t.deepEqual(problems, []);
});
