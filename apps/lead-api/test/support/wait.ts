/**
 * The one bounded poll of the tests: calls `check` every `intervalMs` until it answers something
 * other than `false`, `undefined` or `null`, and resolves with that answer. After `timeoutMs` it
 * fails naming what it waited for, so a timeout says which condition never came true.
 */
export async function waitUntil<T>(
  what: string,
  check: () => T | false | undefined | null | Promise<T | false | undefined | null>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== false && found !== undefined && found !== null) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
