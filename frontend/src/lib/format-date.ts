const DATE_FORMAT: Intl.DateTimeFormatOptions = { year: "numeric", month: "short", day: "numeric" };

/** A short, locale-aware date for an ISO timestamp; an unreadable value is shown as it came. */
export function formatDate(iso: string, locale?: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, timeZone ? { ...DATE_FORMAT, timeZone } : DATE_FORMAT).format(date);
}
