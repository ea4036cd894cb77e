import type { Output } from "../output.js";
import type { GlobalFlags } from "../settings.js";

export async function demoCommand(out: Output, _flags: GlobalFlags): Promise<void> {
  out.out("demo\n");
}
