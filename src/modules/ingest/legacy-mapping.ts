import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import type { EventOutcome } from '../../shared/event.js';
import { idText, MappingError, timeOf, type EventDraftIn } from './ocsf.mapper.js';

/**
 * Mapping files let a legacy application send its own JSON log lines without code: each names which
 * of its fields hold the event id, time, user, record, address…, and how its action and result
 * values translate into Vigie kinds and outcomes. Files live in `<rulesDir>/mappings/*.yaml`; a
 * batch names its mapping with `?mapping=<name>`.
 */
const FieldName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,99}$' });
const ValueMap = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 100 }));

export const MappingDocument = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{1,63}$' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    kind: Type.Object({ field: FieldName, map: ValueMap }, { additionalProperties: false }),
    outcome: Type.Optional(
      Type.Object(
        {
          field: FieldName,
          map: Type.Record(
            Type.String({ maxLength: 100 }),
            Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
          ),
          default: Type.Optional(
            Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    fields: Type.Object(
      {
        id: Type.Optional(FieldName),
        time: FieldName,
        timeFormat: Type.Optional(
          Type.Union([Type.Literal('iso'), Type.Literal('epoch_ms'), Type.Literal('epoch_s')]),
        ),
        actor: FieldName,
        target: Type.Optional(FieldName),
        organisationId: Type.Optional(FieldName),
        ip: Type.Optional(FieldName),
        userAgent: Type.Optional(FieldName),
        sessionId: Type.Optional(FieldName),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type MappingDocument = Static<typeof MappingDocument>;

const validate = new Ajv({ strict: false }).compile<MappingDocument>(MappingDocument);
const KIND = /^[a-z_]+(\.[a-z_]+)+$/;

export function parseMapping(raw: unknown): MappingDocument {
  if (!validate(raw)) {
    const e = validate.errors?.[0];
    throw new Error(`${e?.instancePath || 'mapping'}: ${e?.message ?? 'is invalid'}`);
  }
  for (const k of Object.values(raw.kind.map))
    if (!KIND.test(k)) throw new Error(`kind.map: "${k}" is not an event kind`);
  return raw;
}

/** Reads every mapping of `<dir>/*.yaml`; a missing directory means no mappings. */
export function loadMappings(dir: string): Map<string, MappingDocument> {
  const out = new Map<string, MappingDocument>();
  if (!fs.existsSync(dir)) return out;
  for (const f of fs
    .readdirSync(dir)
    .filter((x) => /\.ya?ml$/.test(x))
    .sort()) {
    const m = parseMapping(parse(fs.readFileSync(path.join(dir, f), 'utf8')));
    out.set(m.name, m);
  }
  return out;
}

function read(item: Record<string, unknown>, field: string): unknown {
  let v: unknown = item;
  for (const p of field.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

export function mapLegacy(
  m: MappingDocument,
  item: Record<string, unknown>,
  applicationId: string,
): EventDraftIn {
  const f = m.fields;
  const rawTime = read(item, f.time);
  const timeMs = f.timeFormat === 'epoch_s' && typeof rawTime === 'number' ? rawTime * 1000 : timeOf(rawTime);
  const action = read(item, m.kind.field);
  const kind =
    typeof action === 'string' && Object.hasOwn(m.kind.map, action) ? m.kind.map[action] : undefined;
  if (!kind) throw new MappingError('UNMAPPED_ACTION', `${m.kind.field} has no mapping in ${m.name}`);
  const actor = idText(read(item, f.actor));
  if (!actor) throw new MappingError('MISSING_USER', `${f.actor} must hold the user's identifier`);
  let outcome: EventOutcome = m.outcome?.default ?? 'success';
  if (m.outcome) {
    const r = read(item, m.outcome.field);
    const key =
      typeof r === 'string' || typeof r === 'number' || typeof r === 'boolean' ? String(r) : undefined;
    if (key !== undefined && Object.hasOwn(m.outcome.map, key)) outcome = m.outcome.map[key]!;
  }
  const target = f.target ? idText(read(item, f.target)) : undefined;
  const organisationId = f.organisationId ? idText(read(item, f.organisationId), 64) : undefined;
  const ip = f.ip ? read(item, f.ip) : undefined;
  const ua = f.userAgent ? read(item, f.userAgent) : undefined;
  const sessionId = f.sessionId ? idText(read(item, f.sessionId)) : undefined;
  const context = {
    ...(typeof ip === 'string' && /^[0-9a-fA-F:.]{2,45}$/.test(ip) ? { ip } : {}),
    ...(typeof ua === 'string' && ua ? { userAgent: ua.slice(0, 300) } : {}),
    ...(sessionId ? { sessionId } : {}),
  };
  return {
    sourceId: f.id ? idText(read(item, f.id)) : undefined,
    timeMs,
    kind,
    actor: { type: 'user', id: actor },
    ...(target ? { target: { type: kind.startsWith('record.') ? 'record' : 'user', id: target } } : {}),
    ...(organisationId ? { organisationId } : {}),
    ...(Object.keys(context).length ? { context } : {}),
    outcome,
    data: { applicationId, mapping: m.name },
  };
}
