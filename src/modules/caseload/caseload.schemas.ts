import { Type, type Static } from '@sinclair/typebox';
import { Id, PageQuery, Timestamp } from '../../http/schemas.js';

/**
 * Bounded wire shapes of the caseload. A data subject is an opaque id as business applications know
 * the person: no name, NIR or contact detail is accepted, so every object is closed
 * (additionalProperties false) and an extra field is a 400, never silently stored.
 */
export const SUBJECT_ID_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';
export const SUBJECT_KINDS = ['job_seeker', 'young_person', 'other'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];
export const FOLLOW_RELATIONS = ['follows', 'enrolled'] as const;
export type FollowRelation = (typeof FOLLOW_RELATIONS)[number];

export const SubjectId = Type.String({ pattern: SUBJECT_ID_PATTERN, minLength: 1, maxLength: 64 });
export const SubjectKindSchema = Type.Union(SUBJECT_KINDS.map((k) => Type.Literal(k)));
export const RelationSchema = Type.Union(FOLLOW_RELATIONS.map((r) => Type.Literal(r)));

export const SubjectCreateBody = Type.Object(
  {
    id: SubjectId,
    kind: SubjectKindSchema,
    decoy: Type.Optional(Type.Boolean()),
    sealed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SubjectCreateBody = Static<typeof SubjectCreateBody>;

export const SubjectResponse = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    sealed: Type.Boolean(),
    /** Present only for callers who manage the caseload operator-wide: a decoy must not be spotted. */
    decoy: Type.Optional(Type.Boolean()),
    createdAt: Type.String(),
  },
  { additionalProperties: false },
);

export const SubjectParams = Type.Object({ id: SubjectId }, { additionalProperties: false });

export const FollowCreateBody = Type.Object(
  {
    subjectId: SubjectId,
    organisationId: Id,
    accountId: Type.Optional(Id),
    relation: Type.Optional(RelationSchema),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type FollowCreateBody = Static<typeof FollowCreateBody>;

export const FollowEndBody = Type.Object(
  {
    until: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export const FollowResponse = Type.Object(
  {
    id: Type.String(),
    subjectId: Type.String(),
    organisationId: Type.String(),
    accountId: Type.Union([Type.String(), Type.Null()]),
    relation: Type.String(),
    since: Type.String(),
    until: Type.Union([Type.String(), Type.Null()]),
    active: Type.Boolean(),
    createdAt: Type.String(),
  },
  { additionalProperties: false },
);

export const FollowParams = Type.Object({ id: Id }, { additionalProperties: false });

export const FollowListQuery = Type.Composite(
  [PageQuery, Type.Object({ organisationId: Id, activeOnly: Type.Optional(Type.Boolean()) })],
  { additionalProperties: false },
);

export const SubjectFollowsQuery = Type.Composite(
  [PageQuery, Type.Object({ activeOnly: Type.Optional(Type.Boolean()) })],
  { additionalProperties: false },
);
