// The chat input's autocomplete: which word is being typed, and replacing it with a name.

/** The word around the caret: from after the previous whitespace to the next whitespace. */
export interface WordAt {
  start: number;
  end: number;
  word: string;
}

const SPACE = /\s/;

export function wordAt(text: string, caret: number): WordAt {
  const c = Math.max(0, Math.min(caret, text.length));
  let start = c;
  while (start > 0 && !SPACE.test(text[start - 1]!)) start--;
  let end = c;
  while (end < text.length && !SPACE.test(text[end]!)) end++;
  return { start, end, word: text.slice(start, end) };
}

/** Characters a word needs before the chat suggests names for it. */
export const MIN_SUGGEST_CHARS = 2;

/** What to search for to suggest names: the word being typed (only up to the caret), or
 * `null` when there is nothing worth looking up. */
export function suggestionQuery(text: string, caret: number): string | null {
  const { start } = wordAt(text, caret);
  const typed = text.slice(start, Math.max(start, Math.min(caret, text.length)));
  // Quotes and trailing punctuation are not part of a name someone is typing.
  const word = typed.replace(/^["'(]+/, '').replace(/[,;:!?)"']+$/, '');
  return word.length >= MIN_SUGGEST_CHARS ? word : null;
}

/**
 * Replaces the word at the caret with `name` and puts the caret after it, followed by one
 * space (added unless a space already follows).
 */
export function replaceWord(text: string, caret: number, name: string): { text: string; caret: number } {
  const { start, end } = wordAt(text, caret);
  const before = text.slice(0, start);
  const after = text.slice(end);
  const needsSpace = !(after.length > 0 && SPACE.test(after[0]!));
  const inserted = needsSpace ? `${name} ` : name;
  const next = before + inserted + after;
  const newCaret = before.length + inserted.length + (needsSpace ? 0 : 1);
  return { text: next, caret: Math.min(newCaret, next.length) };
}

/** The next highlighted suggestion for ArrowDown (+1) / ArrowUp (-1); -1 means none. */
export function moveHighlight(current: number, delta: number, count: number): number {
  if (count <= 0) return -1;
  if (current < 0) return delta > 0 ? 0 : count - 1;
  return (current + delta + count) % count;
}

/** The distinct names among suggestions, in order (two resources may share a name). */
export function distinctNames<T extends { resource: { name: string; id: string } }>(results: T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const r of results) {
    const name = r.resource.name || r.resource.id;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(r);
  }
  return out;
}

/** The text a suggestion inserts: the resource's name, or its id when it has none. */
export function suggestionText(r: { resource: { name: string; id: string } }): string {
  return r.resource.name || r.resource.id;
}
