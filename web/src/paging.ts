/**
 * Keyset paging as the admin API offers it: each page's `nextCursor` leads to the next; going back pops
 * the cursors of the pages before. Shared by every paged list of the dashboard.
 */
import { computed, ref } from "vue";

export function useCursorPager() {
  /** The current page's cursor; undefined for the first page. */
  const cursor = ref<string | undefined>();
  const previous = ref<(string | undefined)[]>([]);
  const pageNumber = computed(() => previous.value.length + 1);

  function next(nextCursor: string | null | undefined) {
    if (!nextCursor) return;
    previous.value = [...previous.value, cursor.value];
    cursor.value = nextCursor;
  }

  function back() {
    const list = [...previous.value];
    cursor.value = list.pop();
    previous.value = list;
  }

  function reset() {
    previous.value = [];
    cursor.value = undefined;
  }

  return { cursor, pageNumber, next, back, reset };
}

export type CursorPager = ReturnType<typeof useCursorPager>;
