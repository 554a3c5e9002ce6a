const UNITS = ["KB", "MB", "GB", "TB"] as const;

/** A file size for people: `512 B`, `1.5 KB`, `20 MB` (powers of 1024, one decimal under 10). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes;
  let unit: (typeof UNITS)[number] = "KB";
  for (const next of UNITS) {
    value /= 1024;
    unit = next;
    if (value < 1024) break;
  }
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, "") : Math.round(value).toString()} ${unit}`;
}
