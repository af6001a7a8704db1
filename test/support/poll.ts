/**
 * Polls `probe` until it returns something truthy and returns that; the bound only fails a test that would otherwise
 * hang (the awaited events — NOTIFY, a delivery, a restart — take milliseconds to seconds).
 */
export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
