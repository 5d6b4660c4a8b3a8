import { Type } from '@sinclair/typebox';
import { Id } from '../../http/schemas.js';

/** Bounded TypeBox schemas of the journal API. Hashes travel as standard base64, as in C2SP. */

const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Hash = Type.String({ description: 'SHA-256 hash, standard base64', maxLength: 44 });

export const VerifierKeyResponse = Type.Object({
  name: Type.String({ description: 'key name, equal to the checkpoint origin' }),
  verifierKey: Type.String({
    description: 'C2SP signed-note verifier key: name+keyid+base64(0x01 ‖ Ed25519 key)',
  }),
  algorithm: Type.Literal('ed25519'),
});

export const EntriesQuery = Type.Object(
  {
    start: Count,
    end: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'exclusive' }),
  },
  { additionalProperties: false },
);

export const EntriesResponse = Type.Object({
  treeSize: Count,
  entries: Type.Array(
    Type.Object({
      index: Count,
      eventId: Type.String(),
      payload: Type.String({
        description: 'the leaf: RFC 8785 canonical JSON of the event, hashed as UTF-8',
      }),
    }),
  ),
});

export const InclusionQuery = Type.Object(
  {
    index: Type.Optional(Count),
    eventId: Type.Optional(Id),
    treeSize: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: false },
);

export const InclusionResponse = Type.Object({
  leafIndex: Count,
  treeSize: Count,
  eventId: Type.String(),
  leafHash: Hash,
  rootHash: Hash,
  hashes: Type.Array(Hash, { description: 'RFC 9162 inclusion path, bottom-up' }),
});

export const ConsistencyQuery = Type.Object(
  {
    from: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    to: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: false },
);

export const ConsistencyResponse = Type.Object({
  from: Count,
  to: Count,
  firstRoot: Hash,
  secondRoot: Hash,
  hashes: Type.Array(Hash, { description: 'RFC 9162 consistency path' }),
});

export const TileParams = Type.Object({
  '*': Type.String({
    maxLength: 64,
    description: '<L>/<N>[.p/<W>] or entries/<N>[.p/<W>], N as x001/x234/067',
  }),
});

export const SignedNote = Type.String({ description: 'C2SP tlog-checkpoint in C2SP signed-note form' });
export const TileBytes = Type.String({ format: 'binary', description: 'tile hashes or entry bundle' });

export const VerificationRecordSchema = Type.Object({
  id: Id,
  via: Type.Union([Type.Literal('api'), Type.Literal('cli')], {
    description: "'api': started by an account (the console); 'cli': `vigie journal verify` on the server",
  }),
  requestedBy: Type.String({ description: '`account:<id>` or `cli`' }),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.String({ format: 'date-time' }),
  ok: Type.Boolean({ description: 'entries, tiles, tree state and signed checkpoint agree' }),
  treeSize: Count,
  entriesChecked: Count,
  tilesChecked: Count,
  checkpointSize: Type.Optional(Count),
  problem: Type.Optional(
    Type.Object({
      code: Type.String({ description: 'e.g. LEAF_MISMATCH, TILE_MISMATCH, CHECKPOINT_INVALID, TRUNCATED' }),
      index: Type.Optional(Count),
      eventId: Type.Optional(Type.String()),
    }),
  ),
});

export const VerificationStarted = Type.Object({
  status: Type.Literal('running'),
  startedAt: Type.String({ format: 'date-time' }),
});

export const VerificationsLatest = Type.Object({
  running: Type.Union([
    Type.Object({ startedAt: Type.String({ format: 'date-time' }), requestedBy: Type.String() }),
    Type.Null(),
  ]),
  last: Type.Union([VerificationRecordSchema, Type.Null()]),
});
