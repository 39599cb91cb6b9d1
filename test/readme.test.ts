/** The README is the user's manual: it must open with the newcomer's commands and document every setting. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('opens with npm install && npm start and npm test', () => {
    const firstBlock = readme.slice(0, readme.indexOf('```', readme.indexOf('```') + 3));
    expect(firstBlock).toContain('npm install && npm start');
    expect(firstBlock).toContain('npm test');
  });

  it('documents every config setting in the settings table', () => {
    const table = readme.slice(readme.indexOf('### Config settings'));
    const missing = SETTINGS.filter((s) => !table.includes(`| \`${s.name}`));
    expect(missing.map((s) => s.name)).toEqual([]);
  });

  it('shows the echo command line exactly as external checks use it', () => {
    expect(readme).toContain('npx wsworks echo --port 9001 [--host 127.0.0.1] [--engine js] [--no-deflate]');
  });
});
