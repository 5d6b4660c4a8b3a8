import { Gauge, Histogram } from 'prom-client';
import type { CoreDeps, VigieModule } from '../../container.js';
import { createIntegrator, type Integrator } from './journal.integrator.js';
import { journalRoutes } from './journal.routes.js';
import { createJournalService, type JournalService } from './journal.service.js';
import { createVerificationRunner, type VerificationRunner } from './journal.verifications.js';
import type { NoteSigner } from './signed-note.js';
import { loadSigningKey } from './signing-key.js';

export interface JournalModule extends VigieModule {
  readonly service: JournalService;
  readonly integrator: Integrator;
  readonly verifications: VerificationRunner;
  /** The checkpoint signer, loaded (or created, on first start) once. */
  signer(): Promise<NoteSigner>;
}

/**
 * The journal: turns the committed `events` rows into an RFC 6962 Merkle tree stored as C2SP tiles,
 * signs a C2SP checkpoint for every integrated batch, and serves checkpoints, proofs and tiles.
 */
export function createJournalModule(deps: CoreDeps): JournalModule {
  let signer: Promise<NoteSigner> | undefined;
  const getSigner = (): Promise<NoteSigner> => {
    if (!signer) {
      const loading = loadSigningKey(deps.config.journal, { create: true });
      // A failed load (e.g. an unreadable key file) is retried on the next call rather than cached.
      loading.catch(() => {
        if (signer === loading) signer = undefined;
      });
      signer = loading;
    }
    return signer;
  };

  const treeSize = new Gauge({
    name: 'vigie_journal_tree_size',
    help: 'Entries integrated into the journal Merkle tree',
    registers: [deps.metrics],
  });
  const batchSeconds = new Histogram({
    name: 'vigie_journal_integration_seconds',
    help: 'Duration of one journal integration transaction',
    buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [deps.metrics],
  });

  const integrator = createIntegrator({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    origin: deps.config.journal.origin,
    intervalMs: deps.config.journal.integrateIntervalMs,
    signer: getSigner,
    onIntegrated: ({ treeSize: size, ms }) => {
      treeSize.set(size);
      batchSeconds.observe(ms / 1000);
    },
  });
  const service = createJournalService({ db: deps.db, signer: getSigner });
  const verifications = createVerificationRunner({
    command: deps,
    logger: deps.logger,
    origin: deps.config.journal.origin,
    verifier: getSigner,
    exclusive: (work) => integrator.exclusive(work),
  });

  return {
    name: 'journal',
    routes: journalRoutes(service, verifications),
    service,
    verifications,
    integrator,
    signer: getSigner,
    async start() {
      await getSigner();
      // A journal that fails its own checks must not stop Vigie from deciding and detecting: the
      // integrator logs, refuses to sign, and retries; `vigie journal verify` names the damage.
      await integrator.integrateOnce().catch((error: unknown) => {
        deps.logger.error({ err: error }, 'journal integration failed at start');
      });
      integrator.start();
    },
    async stop() {
      await verifications.settle();
      await integrator.stop();
    },
  };
}
