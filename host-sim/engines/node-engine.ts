import { Script, createContext } from "node:vm";
import type { Engine } from "./engine";
import { FREEZE_BUILTINS } from "./frozen-builtins";

/**
 * The firmware bundle in-process under Node, in a fresh V8 context of its own: its own globals and
 * intrinsics, nothing of Node's (no require, no process, no Buffer), the same host line as XS.
 */
export async function startNodeEngine(bundle: string, hostCall: (request: string) => string): Promise<Engine> {
  const context = createContext({ __tgHostCall: hostCall });
  new Script(FREEZE_BUILTINS, { filename: "frozen-builtins.js" }).runInContext(context); // as xsl does on a board
  new Script(bundle, { filename: "firmware-host.js" }).runInContext(context);
  const command = context.__tgCommand as (request: string) => string;
  if (typeof command !== "function") throw new Error("firmware bundle did not install its command port");
  let closed = false;
  return {
    name: "node",
    async command(request) {
      if (closed) throw new Error("engine closed");
      return command(request);
    },
    meter: () => null,
    async close() {
      closed = true;
    },
  };
}
