import { describe, expect, it } from 'vitest';
import { parseStatus } from './git.js';

describe('parseStatus', () => {
  it('reads branch, upstream, ahead/behind, renames and untracked files', () => {
    const s = parseStatus('## main...origin/main [ahead 2, behind 1]\0 M src/a.ts\0R  new.ts\0old.ts\0?? notes.md\0');
    expect(s).toEqual({
      branch: 'main',
      upstream: 'origin/main',
      ahead: 2,
      behind: 1,
      files: [
        { path: 'src/a.ts', index: ' ', worktree: 'M' },
        { path: 'new.ts', index: 'R', worktree: ' ', origPath: 'old.ts' },
        { path: 'notes.md', index: '?', worktree: '?' },
      ],
    });
  });

  it('reads an unborn branch and a detached HEAD', () => {
    expect(parseStatus('## No commits yet on main\0').branch).toBe('main');
    expect(parseStatus('## HEAD (no branch)\0').branch).toBeNull();
  });
});
