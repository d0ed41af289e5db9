import { describe, expect, it } from 'vitest';
import type { Decision } from '../api/schemas.js';
import { actionFor, approvalOf, formatDecision, promptText, resolveChoice } from './inbox.js';

const decision: Decision = {
  id: 'd1',
  type: 'ship_change',
  status: 'escalated',
  options: [
    { id: 'ship', label: 'Ship it' },
    { id: 'hold', label: 'Hold it' },
  ],
  proposal: 'ship',
  score: 0.62,
  threshold: 0.98,
  reasons: ['autonomy not yet earned', 'irreversible'],
  context: { risk: 'high', reversible: false, nested: { x: 1 } },
  review: false,
  reviewed: false,
  fallback: 'hold',
  fallbackAt: '2026-12-02T12:05:00Z',
  taskId: '3f2b8c1e-5d0a-4c6e-9a57-0c1f4e2d7b90',
  createdAt: '2026-12-02T11:58:00Z',
};
const review: Decision = { ...decision, status: 'resolved', review: true, choice: 'hold', resolvedBy: 'autonomous' };

describe('inbox keys', () => {
  it('approves the proposal with a or Enter, picks options by number, skips, quits', () => {
    expect(actionFor({ name: 'char', char: 'a' }, decision)).toEqual({ kind: 'answer', choice: 'ship' });
    expect(actionFor({ name: 'enter' }, decision)).toEqual({ kind: 'answer', choice: 'ship' });
    expect(actionFor({ name: 'char', char: '2' }, decision)).toEqual({ kind: 'answer', choice: 'hold' });
    expect(actionFor({ name: 'char', char: '3' }, decision)).toEqual({ kind: 'invalid', why: 'there are 2 options' });
    expect(actionFor({ name: 'char', char: 's' }, decision)).toEqual({ kind: 'skip' });
    expect(actionFor({ name: 'char', char: 'q' }, decision)).toEqual({ kind: 'quit', interrupted: false });
    expect(actionFor({ name: 'eof' }, decision)).toEqual({ kind: 'quit', interrupted: false });
    expect(actionFor({ name: 'interrupt' }, decision)).toEqual({ kind: 'quit', interrupted: true });
    expect(actionFor({ name: 'char', char: 'A' }, decision)).toEqual({ kind: 'approve_batch' });
    expect(actionFor({ name: 'char', char: 'z' }, decision).kind).toBe('invalid');
  });

  it('approving a review keeps the decided choice; without a proposal, approving is refused', () => {
    expect(approvalOf(review)).toBe('hold');
    expect(actionFor({ name: 'enter' }, review)).toEqual({ kind: 'answer', choice: 'hold' });
    const { proposal: _drop, ...noProposal } = decision;
    expect(actionFor({ name: 'enter' }, noProposal)).toMatchObject({ kind: 'invalid', why: expect.stringContaining('no proposal') as string });
  });
});

describe('inbox display', () => {
  it('shows proposal, confidence against the threshold, reasons, context and numbered options', () => {
    const text = formatDecision(decision, { index: 1, total: 3 }, Date.parse('2026-12-02T12:00:00Z'), 120).join('\n');
    expect(text).toContain('[1/3] ship_change  escalated');
    expect(text).toContain('Proposal:   ship — Ship it');
    expect(text).toContain('Confidence: 62% (acting alone needs 98%)');
    expect(text).toContain('    - irreversible');
    expect(text).not.toContain('basis'); // a decision stored before verdicts named it
    expect(formatDecision({ ...decision, basis: 'rule' }, { index: 1, total: 1 }, Date.now(), 120).join('\n')).toContain('  Why: (basis: rule)');
    expect(text).toContain('Context:    risk=high  reversible=false');
    expect(text).toContain('    1) ship  Ship it  ← proposed');
    expect(text).toContain('    2) hold  Hold it');
    expect(text).toContain('If nobody answers: hold in 5m');
    expect(promptText(decision)).toBe('  a/Enter approve ship · 1-2 choose · s skip · A approve batch · q quit › ');
    expect(formatDecision(review, { index: 1, total: 1 }, Date.now(), 120).join('\n')).toContain('Decided alone: hold (autonomous)');
    // On a narrow terminal the reasons wrap under themselves instead of being cut.
    const narrow = formatDecision({ ...decision, reasons: ['autonomy not yet earned for ship_change: too few labelled decisions to prove error ≤ 0.02'] }, { index: 1, total: 1 }, Date.now(), 40);
    const why = narrow.join('\n').split('\n').filter((l) => l.startsWith('    - ') || /^ {6}\S/.test(l));
    expect(why).toEqual(['    - autonomy not yet earned for', '      ship_change: too few labelled', '      decisions to prove error ≤ 0.02']);
    expect(narrow.join('\n')).toContain('  Context:    risk=high\n              reversible=false');
  });
});

describe('answer', () => {
  it('takes an option id, its number or "approve"', () => {
    expect(resolveChoice(decision, 'hold')).toBe('hold');
    expect(resolveChoice(decision, '1')).toBe('ship');
    expect(resolveChoice(decision, 'approve')).toBe('ship');
    expect(() => resolveChoice(decision, 'later')).toThrow('"later" is not an option of decision d1; choose one of: ship (1), hold (2)');
  });
});
