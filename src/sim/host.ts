import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import YAML from 'yaml';
import { buildApp } from '../app.js';
import { parseConfig } from '../config.js';
import type { AccessModule } from '../modules/access/index.js';
import type { DetectionModule } from '../modules/detection/index.js';
import { identityServiceOf } from '../modules/identity/index.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { ManualClock } from '../shared/clock.js';
import { startMailSink, type MailSink } from './mail-sink.js';

/**
 * The Vigie the simulator drives: a real server on 127.0.0.1 over a fresh embedded (SQLite)
 * database in its own directory, whose clock only moves when the simulator moves it, so that weeks
 * of work replay in minutes. Everything else is Vigie as it ships: the same policy and rules
 * directories, the same HTTP API. `protect: false` starts it with a permit-all policy and the shipped
 * rules stripped of their responses, so that the same world and attacks show what gets out unguarded.
 */
export interface VigieHost {
  readonly baseUrl: string;
  readonly origin: string;
  readonly clock: ManualClock;
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  readonly mail: MailSink;
  readonly dataDir: string;
  /** An operator API token (platform administrator), minted the way `vigie admin token` does. */
  readonly operatorToken: string;
  /** A second platform administrator, for the four-eyes approvals of privileged grants. */
  readonly secondOperatorToken: string;
  readonly operatorOrganisationId: string;
  /** Waits for Vigie's own queues: decisions journaled, every event through detection and responses. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Who operates a Vigie the simulator provisioned: kept to start it again over the same database. */
export interface HostIdentity {
  readonly operatorToken: string;
  readonly secondOperatorToken: string;
  readonly operatorOrganisationId: string;
}

export interface HostOptions {
  readonly dataDir: string;
  readonly protect: boolean;
  readonly start: Date;
  /**
   * Start over a database the simulator already provisioned (its operators and their tokens in it)
   * instead of a fresh one: Vigie restarted on a copy of its data directory, as after a cold backup.
   */
  readonly existing?: HostIdentity;
  /** Where the shipped policies/ and rules/ directories are (the package root). */
  readonly packageRoot: string;
  readonly port?: number;
  readonly env?: Record<string, string>;
}

export const SIM_ORIGIN = 'http://localhost:8080';

/**
 * The origin Vigie is configured with: localhost on the port it serves on, so that a browser opening
 * the kept-serving Vigie signs in with passkeys (WebAuthn binds them to the origin); SIM_ORIGIN
 * when it listens on a port drawn at start (nobody opens it in a browser).
 */
const originOf = (options: HostOptions) =>
  options.port !== undefined && options.port !== 0 ? `http://localhost:${options.port}` : SIM_ORIGIN;

function writeUnprotectedPolicy(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'permit-all.yaml'),
    [
      '# The unprotected run of the simulator: every request is allowed, no budget, no step-up.',
      'vigie_policy: 1',
      'name: permit-all',
      'actions: [read, update, search, export]',
      'rules:',
      '  - id: permit-all',
      '    effect: allow',
      '',
    ].join('\n'),
  );
}

/** The shipped rules with their `responses` removed: detection still raises alerts, nothing acts. */
function writeRulesWithoutResponses(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    if (!/\.ya?ml$/.test(name)) continue;
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(from, name), 'utf8'));
    const out = docs.map((doc) => {
      const value = doc.toJS() as Record<string, unknown> | null;
      if (value && typeof value === 'object') delete value.responses;
      return YAML.stringify(value);
    });
    fs.writeFileSync(path.join(to, name), out.join('---\n'));
  }
}

/** Two platform administrators, the way `vigie admin bootstrap` and `vigie admin token` make them. */
async function bootstrapOperators(runtime: Runtime): Promise<HostIdentity> {
  const identity = identityServiceOf(runtime.container);
  const first = await identity.bootstrapAdmin({
    email: 'operateur.1@vigie.example',
    organisationName: 'Opérateur',
  });
  await identity.bootstrapAdmin({
    email: 'operateur.2@vigie.example',
    organisationName: 'Opérateur',
  });
  // The bootstrap tokens last a day of simulated time; a run lasts weeks (`vigie admin token --days`).
  const firstToken = await identity.issueAdminToken({ email: 'operateur.1@vigie.example', days: 120 });
  const secondToken = await identity.issueAdminToken({ email: 'operateur.2@vigie.example', days: 120 });
  return {
    operatorToken: firstToken.secret,
    secondOperatorToken: secondToken.secret,
    operatorOrganisationId: first.organisationId,
  };
}

/** Vigie's configuration for one run: the shipped policies and rules, or the unprotected ones. */
function configFor(options: HostOptions, smtpUrl: string) {
  const policyDir = options.protect
    ? path.join(options.packageRoot, 'policies')
    : path.join(options.dataDir, 'policies');
  const rulesDir = options.protect
    ? path.join(options.packageRoot, 'rules')
    : path.join(options.dataDir, 'rules');
  if (!options.protect) {
    writeUnprotectedPolicy(policyDir);
    writeRulesWithoutResponses(path.join(options.packageRoot, 'rules'), rulesDir);
  }
  return parseConfig({
    VIGIE_DATA_DIR: options.dataDir,
    VIGIE_POLICY_DIR: policyDir,
    VIGIE_RULES_DIR: rulesDir,
    VIGIE_SMTP_URL: smtpUrl,
    VIGIE_ORIGIN: originOf(options),
    // Unprotected: risk alerts are raised but run no response (the rules' own were stripped above).
    ...(options.protect ? {} : { VIGIE_RISK_RESPONSES: 'off' }),
    VIGIE_RP_ID: 'localhost',
    // The simulator stands for the reverse proxy: it tells Vigie each person's address.
    VIGIE_HTTP_TRUST_PROXY: '127.0.0.1',
    VIGIE_HTTP_MAX_CONNECTIONS: '10000',
    // A reverse proxy keeps its upstream connections open: the simulator's are reused for the whole
    // run instead of being closed after 5 idle seconds (and raced when reused as Vigie closes them).
    VIGIE_HTTP_KEEPALIVE_TIMEOUT_MS: '600000',
    VIGIE_LOG_LEVEL: 'silent',
    VIGIE_TOKEN_TTL_ACCOUNT_DAYS: '365',
    VIGIE_TOKEN_TTL_APPLICATION_DAYS: '365',
    ...options.env,
  });
}

/**
 * What `vigie import` does while the server is stopped: a runtime over the data directory, no HTTP
 * and no module started (nothing follows the events it writes until the server starts again and
 * loads its view once). How an operator loads a large register before opening the service.
 */
export async function withStoppedVigie<T>(
  options: HostOptions,
  work: (runtime: Runtime) => Promise<T>,
): Promise<T> {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const config = configFor(options, 'smtp://127.0.0.1:1');
  const runtime = await openRuntime(config, {
    clock: new ManualClock(options.start),
    logger: pino({ level: 'silent' }),
  });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

export async function startVigie(options: HostOptions): Promise<VigieHost> {
  if (!options.existing) fs.rmSync(options.dataDir, { recursive: true, force: true });
  fs.mkdirSync(options.dataDir, { recursive: true });
  const mail = await startMailSink();
  const config = configFor(options, mail.url);
  const clock = new ManualClock(options.start);
  const runtime = await openRuntime(config, { clock, logger: pino({ level: 'silent' }) });
  const app = await buildApp(runtime.container, { logger: { level: 'silent' } });
  await runtime.container.start();
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const operators = options.existing ?? (await bootstrapOperators(runtime));
  const access = runtime.container.modules.find((m): m is AccessModule => m.name === 'access');
  const detection = runtime.container.modules.find((m): m is DetectionModule => m.name === 'detection');
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    origin: originOf(options),
    clock,
    runtime,
    app,
    mail,
    dataDir: options.dataDir,
    ...operators,
    async settle() {
      await access?.service.flush();
      await detection?.service.settled();
      await access?.service.flush();
    },
    async close() {
      await app.close();
      await runtime.close();
      await mail.close();
    },
  };
}
