/**
 * Keyset paging as the admin API offers it: each page's `nextCursor` leads to the next; going back pops
 * the cursors of the pages before. Every paged list of the dashboard holds its page state here and shows
 * it with `PagerNav`.
 *
 * @example
 * const pager = useCursorPager((cursor) => useMissingSecrets(cursor), (page) => page.secrets);
 * // <PagerNav label="missing secrets" :pager="pager" />
 */
import { type ComputedRef, computed, type Ref, ref, type WatchSource, watch } from "vue";

/** What the pager reads from a page query: its answer (kept while the next page loads) and whether it is. */
export interface PagedQuery<Page extends { nextCursor: string | null }> {
  data: Ref<Page | undefined>;
  /** True while the previous page is shown in place of the one asked for. */
  isPlaceholderData: Ref<boolean>;
}

/** A page the list has moved past: where it started and how many rows it showed. */
interface EarlierPage {
  cursor: string | undefined;
  rows: number;
}

export function useCursorPager<
  Page extends { nextCursor: string | null },
  Row,
  Query extends PagedQuery<Page>,
>(
  /** Starts the page query for a cursor (undefined for the first page). */
  load: (cursor: Ref<string | undefined>) => Query & PagedQuery<Page>,
  /** The rows of an answer. */
  rowsOf: (page: Page) => Row[],
  /** Back to the first page whenever this changes (a search or a filter). */
  resetOn?: WatchSource,
) {
  /** The current page's cursor; undefined for the first page. */
  const cursor = ref<string | undefined>();
  const earlier = ref<EarlierPage[]>([]);
  const query = load(cursor);

  const rows = computed<Row[]>(() => (query.data.value ? rowsOf(query.data.value) : []));
  const pageNumber = computed(() => earlier.value.length + 1);
  /** Rows on the pages before this one, so the range counts what was actually shown. */
  const rowsBefore = computed(() => earlier.value.reduce((sum, page) => sum + page.rows, 0));
  const hasNext = computed(() => Boolean(query.data.value?.nextCursor));
  /** While the next page loads, the current one is shown and Next waits. */
  const loading = computed(() => query.isPlaceholderData.value);

  function next() {
    const nextCursor = query.data.value?.nextCursor;
    if (!nextCursor || loading.value) return;
    earlier.value = [...earlier.value, { cursor: cursor.value, rows: rows.value.length }];
    cursor.value = nextCursor;
  }

  function back() {
    const list = [...earlier.value];
    cursor.value = list.pop()?.cursor;
    earlier.value = list;
  }

  function reset() {
    earlier.value = [];
    cursor.value = undefined;
  }

  if (resetOn) watch(resetOn, reset);

  return { query, rows, cursor, pageNumber, rowsBefore, hasNext, loading, next, back, reset };
}

/** The page state `PagerNav` shows and steps through. */
export interface CursorPager<Row = unknown> {
  rows: ComputedRef<readonly Row[]>;
  pageNumber: ComputedRef<number>;
  rowsBefore: ComputedRef<number>;
  hasNext: ComputedRef<boolean>;
  loading: ComputedRef<boolean>;
  next(): void;
  back(): void;
}
