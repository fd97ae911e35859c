/** Dates for people: "3 min ago" in the table, the exact local time in its tooltip. */
import { ref } from "vue";

/** Ticks every 30 s so relative times stay true without a reload. */
export const now = ref(Date.now());
setInterval(() => {
  now.value = Date.now();
}, 30_000);

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const steps: [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 30],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

export function timeAgo(iso: string | null, at = now.value): string {
  if (!iso) return "never";
  let amount = (Date.parse(iso) - at) / 1000;
  if (Math.abs(amount) < 45) return "just now";
  for (const [unit, size] of steps) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return absolute.format(new Date(iso));
}

const days = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** A time ahead in whole days ("in 30 days", "tomorrow"), or in hours and minutes when it is that close. */
export function timeUntil(iso: string, at = now.value): string {
  const seconds = (Date.parse(iso) - at) / 1000;
  if (seconds < 60) return seconds < 0 ? timeAgo(iso, at) : "in a moment";
  if (seconds < 3_600) return days.format(Math.round(seconds / 60), "minute");
  if (seconds < 86_400) return days.format(Math.round(seconds / 3_600), "hour");
  return days.format(Math.round(seconds / 86_400), "day");
}

export function exactTime(iso: string | null): string {
  return iso ? absolute.format(new Date(iso)) : "";
}

/** `datetime-local` input text (local time) to ISO-8601, or "" when empty. */
export function localInputToIso(text: string): string {
  if (text === "") return "";
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
