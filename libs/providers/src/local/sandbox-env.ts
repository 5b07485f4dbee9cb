import { SandboxIdEnv } from './processes.js';

/**
 * What a sandbox process inherits from the provisioner: only what sandbox-agent and its agents need to
 * run, never the provisioner's own secrets (NATS passwords, JWT secret, cloud provider keys). A fixed
 * list rather than a setting, on purpose: a new variable reaches sandboxes only by a change here.
 */
const Passed = new Set([
  // Finding programs, the user's home (agents are installed under $XDG_DATA_HOME or ~/.local/share), locale.
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'TZ',
  'LANG',
  'LANGUAGE',
  'TMPDIR',
  'XDG_DATA_HOME',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_STATE_HOME',
  'XDG_RUNTIME_DIR',
  // Reaching the network from a host behind a proxy or with its own CA.
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  // The agents' own credentials (the ones sandbox-agent's credential discovery reads): an agent the
  // user installed cannot work without them, and they are the agent's, not the mesh's.
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_API_KEY',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'OPENAI_API_KEY',
  'CODEX_API_KEY',
  'RUST_LOG',
  'RUST_BACKTRACE',
]);
/** Locale categories and sandbox-agent's own settings (log dir, ACP registry, …). */
const PassedPrefixes = ['LC_', 'SANDBOX_AGENT_'];

/** The environment of the sandbox-agent server of `sandboxId`: the allow-list, its binary and its mark. */
export function sandboxEnvironment(source: NodeJS.ProcessEnv, bin: string, sandboxId: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (Passed.has(key) || PassedPrefixes.some((p) => key.startsWith(p))) env[key] = value;
  }
  // The mock agent's launcher re-executes sandbox-agent through SANDBOX_AGENT_BIN.
  env.SANDBOX_AGENT_BIN = bin;
  env[SandboxIdEnv] = sandboxId;
  return env;
}
