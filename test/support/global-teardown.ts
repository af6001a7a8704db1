export default async function globalTeardown(): Promise<void> {
  const embedded = (globalThis as Record<string, unknown>).__COUNTERSIGN_EMBEDDED_PG__ as { stop(): Promise<void> } | undefined;
  if (embedded) await embedded.stop();
}
