const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1536 -> "1.5 KiB"; whole bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} ${UNITS[0]}` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Kilobytes as the study's table prints them (1 KB = 1024 bytes), one decimal. */
export function formatKilobytes(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

export function formatFixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** The first characters of a sha256 or id: enough to tell rows apart in a table. */
export function shortHash(value: string, length = 12): string {
  return value.length > length ? value.slice(0, length) : value;
}

/** ISO timestamp -> "2026-11-29 19:40:12" (UTC), compact for tables. */
export function formatTimestamp(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')}`;
}
