/**
 * Composer drafts, one per tab, kept across re-renders and reloads (localStorage when allowed).
 */
export class Drafts {
  private readonly memory = new Map<string, string>();

  constructor(private readonly scope: () => string) {}

  get(tabId: string): string {
    const key = this.key(tabId);
    const kept = this.memory.get(key);
    if (kept !== undefined) return kept;
    try {
      return localStorage.getItem(key) ?? '';
    } catch {
      return '';
    }
  }

  set(tabId: string, text: string): void {
    const key = this.key(tabId);
    this.memory.set(key, text);
    try {
      if (text) localStorage.setItem(key, text);
      else localStorage.removeItem(key);
    } catch {
      // storage disabled: memory only
    }
  }

  drop(tabId: string): void {
    this.set(tabId, '');
  }

  private key(tabId: string): string {
    return `tabmesh.draft.${this.scope()}.${tabId}`;
  }
}
