import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Appends `text` to the file and fsyncs it before resolving, creating the file (0600) and its folder
 * (0700) when absent. Resolving means the bytes survive a crash of this process or the machine.
 */
export async function appendDurably(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const handle = await open(path, "a", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
