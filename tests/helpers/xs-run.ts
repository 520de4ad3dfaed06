import { bundleForXs, runInXs } from "../../host-sim/engines/xs-script";

/**
 * Runs `source` (TypeScript importing the firmware or the shims, from the project root) in an
 * xsnap worker; what it sends with `issueCommand` (JSON text) comes back, in order.
 */
export async function underXs(source: string): Promise<unknown[]> {
  const code = await bundleForXs(source, process.cwd());
  const reports: unknown[] = [];
  await runInXs("xs-run", code, (m) => {
    reports.push(JSON.parse(new TextDecoder().decode(m)));
    return new Uint8Array(0);
  });
  return reports;
}
