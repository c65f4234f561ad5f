import { describe, expect, it } from 'vitest';
import { distinctNames, moveHighlight, replaceWord, suggestionQuery, wordAt } from './chat';

describe('wordAt', () => {
  it('finds the word around the caret', () => {
    expect(wordAt('stop web-1 now', 8)).toEqual({ start: 5, end: 10, word: 'web-1' });
    expect(wordAt('stop we', 7)).toEqual({ start: 5, end: 7, word: 'we' });
    expect(wordAt('stop ', 5)).toEqual({ start: 5, end: 5, word: '' });
    expect(wordAt('', 0)).toEqual({ start: 0, end: 0, word: '' });
  });

  it('treats new lines as spaces', () => {
    expect(wordAt('stop\nord', 8).word).toBe('ord');
  });
});

describe('suggestionQuery', () => {
  it('is the word typed so far', () => {
    expect(suggestionQuery('stop the instance we', 20)).toBe('we');
    expect(suggestionQuery('stop orders-d', 13)).toBe('orders-d');
  });

  it('only looks at what is before the caret', () => {
    expect(suggestionQuery('stop webserver', 8)).toBe('web');
  });

  it('needs two characters', () => {
    expect(suggestionQuery('stop w', 6)).toBeNull();
    expect(suggestionQuery('stop ', 5)).toBeNull();
  });

  it('ignores quotes and trailing punctuation', () => {
    expect(suggestionQuery('stop "web', 9)).toBe('web');
    expect(suggestionQuery('stop web,', 9)).toBe('web');
  });
});

describe('replaceWord', () => {
  it('replaces the word being typed at the end and adds a space', () => {
    expect(replaceWord('stop the instance we', 20, 'web-1')).toEqual({ text: 'stop the instance web-1 ', caret: 24 });
  });

  it('replaces a word in the middle, the whole word, and keeps the rest', () => {
    const r = replaceWord('stop ord now', 7, 'orders-db');
    expect(r.text).toBe('stop orders-db now');
    expect(r.caret).toBe('stop orders-db '.length);
  });

  it('replaces the first word', () => {
    expect(replaceWord('we', 2, 'web-1')).toEqual({ text: 'web-1 ', caret: 6 });
  });

  it('does not touch other words that look the same', () => {
    expect(replaceWord('we and we', 9, 'web-1').text).toBe('we and web-1 ');
  });
});

describe('moveHighlight', () => {
  it('wraps around and starts at an end', () => {
    expect(moveHighlight(-1, 1, 3)).toBe(0);
    expect(moveHighlight(-1, -1, 3)).toBe(2);
    expect(moveHighlight(2, 1, 3)).toBe(0);
    expect(moveHighlight(0, -1, 3)).toBe(2);
    expect(moveHighlight(0, 1, 0)).toBe(-1);
  });
});

describe('distinctNames', () => {
  it('keeps the first of each name', () => {
    const mk = (name: string, id: string) => ({ resource: { name, id } });
    expect(distinctNames([mk('web-1', 'a'), mk('web-1', 'b'), mk('', 'i-9'), mk('db', 'c')]).map((r) => r.resource.id)).toEqual([
      'a',
      'i-9',
      'c',
    ]);
  });
});
