// Runs before every test file (jsdom).
import { afterEach } from 'vitest';

afterEach(() => {
  document.body.innerHTML = '';
});
