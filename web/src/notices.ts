/** Short confirmations ("Saved STRIPE_KEY") in a polite live region; errors stay longer. */
import { ref } from "vue";

export interface Notice {
  id: number;
  text: string;
  kind: "success" | "error";
}

export const notices = ref<Notice[]>([]);
let nextId = 1;

export function notify(text: string, kind: Notice["kind"] = "success"): void {
  const id = nextId++;
  notices.value = [...notices.value, { id, text, kind }].slice(-4);
  setTimeout(() => dismiss(id), kind === "error" ? 9_000 : 4_500);
}

export function dismiss(id: number): void {
  notices.value = notices.value.filter((notice) => notice.id !== id);
}
