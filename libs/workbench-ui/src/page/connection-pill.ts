import type { ConnectionStateEvent } from '@tabmesh/client';

/**
 * Shows the connection state; while reconnecting, a countdown to the next attempt and a
 * "Retry now". The countdown ticks a local timer only; nothing here talks to the server.
 */
export class ConnectionPill {
  private ticker: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly label: HTMLElement,
    private readonly retry: HTMLButtonElement,
    onRetry: () => void,
  ) {
    retry.addEventListener('click', onRetry);
  }

  show(event: ConnectionStateEvent): void {
    this.root.dataset.state = event.state;
    document.body.dataset.conn = event.state;
    this.retry.hidden = event.state !== 'reconnecting';
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    if (event.state === 'reconnecting' && event.retryAt) {
      const retryAt = event.retryAt;
      const tick = () => {
        const left = retryAt - Date.now();
        this.label.textContent = left > 950 ? `Reconnecting in ${Math.ceil(left / 1000)}s` : 'Reconnecting…';
        if (left <= 0 && this.ticker) clearInterval(this.ticker);
      };
      tick();
      this.ticker = setInterval(tick, 250);
      return;
    }
    this.label.textContent = {
      connecting: 'Connecting…',
      open: 'Live',
      reconnecting: 'Reconnecting…',
      closed: 'Offline',
      unauthenticated: 'Signed out',
    }[event.state];
  }
}
