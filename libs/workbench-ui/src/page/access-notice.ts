import type { AuthFailure } from '@tabmesh/client';
import { byId } from './dom.js';
import { tokenExpired } from './token-store.js';

/** Why the page cannot show the task: no token, a token the gateway refuses, or an org it does not cover. */
export type AccessProblem =
  | { kind: 'signed-out' }
  | { kind: 'expired' }
  | { kind: 'rejected' }
  | { kind: 'forbidden'; org: string };

/**
 * What a refusal means for the reader. `token` is the page's token (null: none); a refused token
 * whose `exp` has passed is "expired" even when the gateway only said 401.
 */
export function problemOf(token: string | null, auth?: AuthFailure): AccessProblem {
  if (auth ? !auth.hadToken : token === null) return { kind: 'signed-out' };
  if (auth?.reason === 'expired' || (token !== null && tokenExpired(token))) return { kind: 'expired' };
  return { kind: 'rejected' };
}

const words: Record<AccessProblem['kind'], { title: string; text: (org: string) => string }> = {
  'signed-out': { title: 'Not signed in', text: () => 'The gateway asks for a token, and this page has none.' },
  expired: { title: 'Token expired', text: () => 'The gateway no longer accepts the token this page was opened with.' },
  rejected: {
    title: 'Token not accepted',
    text: () => 'The gateway refused the token this page was opened with (another key, or malformed).',
  },
  forbidden: {
    title: 'No access to this org',
    text: (org) => `The token of this page does not cover org "${org}". Choose another org, or use a token for it.`,
  },
};

/**
 * The notice that takes the place of the tab strip and the panel (body[data-access] hides them)
 * when the page has no usable token. It is a role=alert region, so it is announced when it appears.
 */
export class AccessNotice {
  private readonly root = byId('access');
  private readonly title = byId('access-title');
  private readonly text = byId('access-text');
  private readonly command = byId('access-command');
  current: AccessProblem | null = null;

  constructor(onRetry: () => void) {
    byId('access-retry').addEventListener('click', onRetry);
  }

  show(problem: AccessProblem | null, org: string): void {
    this.current = problem;
    if (!problem) {
      delete document.body.dataset.access;
      this.root.hidden = true;
      return;
    }
    const shownOrg = problem.kind === 'forbidden' ? problem.org : org;
    document.body.dataset.access = problem.kind;
    this.root.dataset.kind = problem.kind;
    this.title.textContent = words[problem.kind].title;
    this.text.textContent = words[problem.kind].text(shownOrg);
    this.command.textContent = shownOrg ? `pnpm token --org ${shownOrg}` : 'pnpm token --all';
    this.root.hidden = false;
  }
}
