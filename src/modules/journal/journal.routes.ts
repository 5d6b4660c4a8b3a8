import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireAccount } from '../../http/authenticate.js';
import { ErrorResponses } from '../../http/schemas.js';
import { invalid } from '../../shared/errors.js';
import type { AccountPrincipal } from '../../shared/principal.js';
import { journalErrors } from './journal.errors.js';
import {
  ConsistencyQuery,
  ConsistencyResponse,
  EntriesQuery,
  EntriesResponse,
  InclusionQuery,
  InclusionResponse,
  SignedNote,
  TileBytes,
  TileParams,
  VerifierKeyResponse,
  VerificationStarted,
  VerificationsLatest,
} from './journal.schemas.js';
import type { InclusionProof, JournalService } from './journal.service.js';
import type { VerificationRunner } from './journal.verifications.js';
import { TILE_WIDTH, parseTilePath } from './tile-layout.js';

const PERMISSION = 'journal.read';
const tags = ['journal'];
const security = [{ bearer: [] }];

/**
 * Entries and entry bundles carry the events of every organisation, so they need journal.read on a
 * top-level organisation; hashes, proofs and checkpoints reveal no content and need it anywhere.
 */
function requireContentReader(request: FastifyRequest): AccountPrincipal {
  const principal = requireAccount(request, PERMISSION);
  const topLevel = principal.grants.some(
    (g) => g.permissions.has(PERMISSION) && /^\/[^/]+\/$/.test(g.organisationPath),
  );
  if (!topLevel) throw journalErrors.contentScope();
  return principal;
}

const presentInclusion = (p: InclusionProof) => ({
  leafIndex: p.leafIndex,
  treeSize: p.treeSize,
  eventId: p.eventId,
  leafHash: p.leafHash.toString('base64'),
  rootHash: p.rootHash.toString('base64'),
  hashes: p.hashes.map((h) => h.toString('base64')),
});

export function journalRoutes(
  service: JournalService,
  verifications: VerificationRunner,
): FastifyPluginAsync {
  return (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/api/v1/journal/checkpoint',
      {
        schema: {
          tags,
          security,
          summary: 'Latest signed checkpoint (C2SP tlog-checkpoint, signed note)',
          response: { 200: { content: { 'text/plain': { schema: SignedNote } } }, ...ErrorResponses },
        },
      },
      async (request, reply) => {
        requireAccount(request, PERMISSION);
        const { note } = await service.latestCheckpoint();
        return reply
          .type('text/plain; charset=utf-8')
          .header('cache-control', 'private, max-age=1')
          .send(note);
      },
    );

    app.get(
      '/api/v1/journal/verifier-key',
      {
        schema: {
          tags,
          security,
          summary: 'Verifier key of the checkpoint signatures (C2SP signed-note)',
          response: { 200: VerifierKeyResponse, ...ErrorResponses },
        },
      },
      async (request) => {
        requireAccount(request, PERMISSION);
        return { ...(await service.verifierKey()), algorithm: 'ed25519' as const };
      },
    );

    app.get(
      '/api/v1/journal/entries',
      {
        schema: {
          tags,
          security,
          summary: 'Entries [start, end) of the tree, at most 1000',
          querystring: EntriesQuery,
          response: { 200: EntriesResponse, ...ErrorResponses },
        },
      },
      async (request) => {
        requireContentReader(request);
        return service.entries(request.query.start, request.query.end);
      },
    );

    app.get(
      '/api/v1/journal/proof/inclusion',
      {
        schema: {
          tags,
          security,
          summary: 'Inclusion proof of an entry, by leaf index or by event id',
          querystring: InclusionQuery,
          response: { 200: InclusionResponse, ...ErrorResponses },
        },
      },
      async (request) => {
        requireAccount(request, PERMISSION);
        const { index, eventId, treeSize } = request.query;
        if ((index === undefined) === (eventId === undefined)) {
          throw invalid('JOURNAL_QUERY_INVALID', 'give exactly one of index and eventId');
        }
        const proof =
          index !== undefined
            ? await service.inclusionByIndex(index, treeSize)
            : await service.inclusionByEventId(eventId!, treeSize);
        return presentInclusion(proof);
      },
    );

    app.get(
      '/api/v1/journal/proof/consistency',
      {
        schema: {
          tags,
          security,
          summary: 'Consistency proof between two tree sizes (to defaults to the current size)',
          querystring: ConsistencyQuery,
          response: { 200: ConsistencyResponse, ...ErrorResponses },
        },
      },
      async (request) => {
        requireAccount(request, PERMISSION);
        const p = await service.consistency(request.query.from, request.query.to);
        return {
          from: p.from,
          to: p.to,
          firstRoot: p.firstRoot.toString('base64'),
          secondRoot: p.secondRoot.toString('base64'),
          hashes: p.hashes.map((h) => h.toString('base64')),
        };
      },
    );

    app.get(
      '/api/v1/journal/tile/*',
      {
        schema: {
          tags,
          security,
          summary:
            'C2SP tlog-tiles: hash tiles tile/<L>/<N>[.p/<W>] and entry bundles tile/entries/<N>[.p/<W>]',
          params: TileParams,
          response: {
            200: { content: { 'application/octet-stream': { schema: TileBytes } } },
            ...ErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const parsed = parseTilePath(request.params['*']);
        if (!parsed) throw journalErrors.tileNotFound();
        let body: Buffer;
        if (parsed.level === 'entries') {
          requireContentReader(request);
          body = await service.entryBundle(parsed.index, parsed.width);
        } else {
          requireAccount(request, PERMISSION);
          body = await service.hashTile(parsed.level, parsed.index, parsed.width);
        }
        // Full tiles never change; partial ones are replaced by wider ones as the tree grows.
        const cache =
          parsed.width === TILE_WIDTH ? 'private, max-age=31536000, immutable' : 'private, max-age=60';
        return reply.type('application/octet-stream').header('cache-control', cache).send(body);
      },
    );
    app.post(
      '/api/v1/journal/verifications',
      {
        schema: {
          tags,
          security,
          summary:
            'Start a full verification of the journal (every entry and tile against the signed checkpoint), one at a time',
          description:
            'Reads every entry, so needs journal.read on a top-level organisation. Runs in the background; its outcome is recorded, journaled as `journal.verified`, and read from GET /api/v1/journal/verifications/latest.',
          response: { 202: VerificationStarted, ...ErrorResponses },
        },
      },
      async (request, reply) => {
        const principal = requireContentReader(request);
        const { startedAt } = verifications.start(principal);
        return reply.code(202).send({ status: 'running' as const, startedAt });
      },
    );

    app.get(
      '/api/v1/journal/verifications/latest',
      {
        schema: {
          tags,
          security,
          summary: 'The verification running now, if any, and the outcome of the last one to finish',
          response: { 200: VerificationsLatest, ...ErrorResponses },
        },
      },
      async (request) => {
        requireAccount(request, PERMISSION);
        return { running: verifications.running() ?? null, last: (await verifications.latest()) ?? null };
      },
    );

    return Promise.resolve();
  };
}
